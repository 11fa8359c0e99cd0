import { blockRefsIn, checkConfig, type BlockRef } from '../../catalog/config-validator.ts';
import type { BlockType } from '../../catalog/block-type.ts';
import { parseBlockTypeRef } from '../../catalog/block-type.ts';
import type { Issue } from '../../errors.ts';
import type { PipelineSpec } from '../spec-schema.ts';
import type { BlockTypeSource, Findings } from './report.ts';

type Resolved = { type: BlockType } | { issue: Issue };

/**
 * Resolves every block's and sensor's `type` against the catalog (one lookup for the whole spec)
 * and checks each config against its type's JSON Schema. Returns the resolved types by block id,
 * and the values in valid configs that name other blocks (checked once every type is known).
 */
export async function checkBlockTypes(
  spec: PipelineSpec,
  source: BlockTypeSource,
  findings: Findings,
): Promise<{ typeOf: Map<string, BlockType>; refs: BlockRef[] }> {
  const typeRefs = [...spec.blocks.map((b) => b.type), ...spec.sensors.map((s) => s.type)];
  const slugs = [...new Set(typeRefs.map((r) => parseBlockTypeRef(r)?.slug).filter((s): s is string => !!s))];
  const bySlug = new Map<string, BlockType[]>();
  for (const type of await source.lookup(slugs)) bySlug.set(type.slug, [...(bySlug.get(type.slug) ?? []), type]);

  const resolve = async (ref: string, path: string): Promise<Resolved> => {
    const parsed = parseBlockTypeRef(ref);
    if (!parsed) {
      return { issue: { code: 'unknown_block_type', path, message: `"${ref}" is not a block type reference`, hint: 'Use "slug@version", e.g. "postgres_incremental_extract@1"; search the catalog for slugs.' } };
    }
    const versions = bySlug.get(parsed.slug) ?? [];
    if (versions.length === 0) {
      const similar = await source.suggest(parsed.slug.replace(/_/g, ' '));
      return {
        issue: {
          code: 'unknown_block_type',
          path,
          message: `there is no block type "${parsed.slug}" in the catalog`,
          hint: similar.length ? `Did you mean ${similar.map((s) => `"${s}"`).join(' or ')}? Search the catalog to be sure.` : 'Search the catalog for a block type that does this.',
        },
      };
    }
    // "Latest" skips retired versions; a pinned retired version still resolves (stored pipelines keep it).
    const current = versions.filter((v) => !v.retired);
    const latest = current.length ? current.reduce((a, b) => (b.version > a.version ? b : a)) : undefined;
    if (parsed.version === undefined && !latest) {
      return { issue: { code: 'retired_block_type', path, message: `every version of block type "${parsed.slug}" is retired`, hint: 'Search the catalog for a block type that does this.' } };
    }
    const type = parsed.version === undefined ? latest : versions.find((v) => v.version === parsed.version);
    if (!type) {
      return {
        issue: {
          code: 'unknown_block_type',
          path,
          message: `block type "${parsed.slug}" has no version ${parsed.version}`,
          hint: `Versions: ${versions.map((v) => v.version).join(', ')}${latest ? `; the latest is "${latest.ref}"` : ''}.`,
        },
      };
    }
    return { type };
  };

  const refs: BlockRef[] = [];
  const configIssues = (type: BlockType, config: unknown, path: string) => {
    const issues = checkConfig(type.config_schema, config, path);
    findings.errors.push(...issues.map(asConfigIssue));
    if (!issues.length) refs.push(...blockRefsIn(type.config_schema, config, path));
  };

  const typeOf = new Map<string, BlockType>();
  for (const [i, block] of spec.blocks.entries()) {
    const resolved = await resolve(block.type, `/blocks/${i}/type`);
    if ('issue' in resolved) {
      findings.errors.push(resolved.issue);
      continue;
    }
    const { type } = resolved;
    if (type.category === 'trigger') {
      findings.errors.push({
        code: 'misplaced_trigger',
        path: `/blocks/${i}/type`,
        message: `"${type.ref}" is a trigger, not a step that produces data`,
        hint: type.compiles_to === 'schedule'
          ? 'Put a cron schedule in "schedules": {"id", "cron", "timezone", "job"}.'
          : `Put it in "sensors": {"id", "type": "${type.ref}", "config", "job"}.`,
      });
      continue;
    }
    configIssues(type, block.config, `/blocks/${i}/config`);
    if (!typeOf.has(block.id)) typeOf.set(block.id, type);
  }

  for (const [i, sensor] of spec.sensors.entries()) {
    const resolved = await resolve(sensor.type, `/sensors/${i}/type`);
    if ('issue' in resolved) {
      findings.errors.push(resolved.issue);
      continue;
    }
    if (resolved.type.compiles_to !== 'sensor') {
      findings.errors.push({
        code: 'not_a_sensor',
        path: `/sensors/${i}/type`,
        message: `"${resolved.type.ref}" is not a sensor block type`,
        hint: resolved.type.compiles_to === 'schedule'
          ? 'Cron triggers go in "schedules" with a "cron" field.'
          : 'Search the catalog with category "trigger" for sensors.',
      });
      continue;
    }
    configIssues(resolved.type, sensor.config, `/sensors/${i}/config`);
  }
  return { typeOf, refs };
}

const asConfigIssue = (issue: Issue): Issue => ({ code: 'invalid_config', ...issue });
