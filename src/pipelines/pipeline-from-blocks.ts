import { z } from 'zod';
import type { Principal } from '../auth/principal.ts';
import { AppError, type Issue } from '../errors.ts';
import { fromZodIssues, toPointer } from '../issues.ts';
import type { BlockRepo } from './block-repo.ts';
import { slugify, uniqueId } from './ids.ts';
import type { PipelineService, PipelineView } from './pipeline-service.ts';
import { inRequestTerms, seedJobSchema, seedScheduleSchema, seedSensorSchema, seedTriggers } from './seed-triggers.ts';
import { retryPolicySchema } from './spec-schema.ts';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * The seed's free-form `configuration`: pipeline-level settings under known keys (jobs, schedules
 * and sensors among them, see seed-triggers.ts), and per-block config overrides under each
 * block's UUID. Anything else is a mistake worth naming.
 */
const settingsSchema = z
  .object({
    description: z.string().max(4000).optional(),
    schedule: z.union([z.string().min(1), z.object({ cron: z.string().min(1), timezone: z.string().optional() }).strict()]).optional(),
    timezone: z.string().optional(),
    environment: z.string().regex(/^[a-z][a-z0-9_-]*$/).optional(),
    retry_policy: retryPolicySchema.optional(),
    jobs: z.array(seedJobSchema).max(200).optional(),
    schedules: z.array(seedScheduleSchema).max(200).optional(),
    sensors: z.array(seedSensorSchema).max(200).optional(),
  })
  .strict();
const SETTINGS = Object.keys(settingsSchema.shape);

export interface FromBlocksRequest {
  pipeline_name: string;
  block_ids: string[];
  configuration: Record<string, unknown>;
}

/**
 * Builds a pipeline from placed blocks and the edges among them, as the seed's flow describes:
 * each block's spec id comes from its name (slugged, made unique) and the map from spec ids to
 * block UUIDs is kept in the version's origin.
 */
export async function createPipelineFromBlocks(
  principal: Principal,
  request: FromBlocksRequest,
  deps: { blocks: BlockRepo; pipelines: PipelineService },
): Promise<PipelineView> {
  // UUIDs are accepted in either case; rows come back in lower case, so compare in lower case.
  request = { ...request, block_ids: request.block_ids.map((id) => id.toLowerCase()) };
  const { settings, overrides } = splitConfiguration(request.configuration, request.block_ids);

  const duplicates = request.block_ids
    .map((id, i) => ({ id, i }))
    .filter(({ id, i }) => request.block_ids.indexOf(id) !== i)
    .map(({ id, i }): Issue => ({ code: 'duplicate_id', path: `/block_ids/${i}`, message: `block "${id}" is listed twice`, hint: 'List each block once.' }));
  if (duplicates.length) throw new AppError('invalid:request', 'block_ids lists a block more than once.', { issues: duplicates });

  const rows = await deps.blocks.getBlocks(principal, request.block_ids);
  const byId = new Map(rows.map((r) => [r.id, r]));
  const missing = request.block_ids
    .map((id, i) => ({ id, i }))
    .filter(({ id }) => !byId.has(id))
    .map(({ id, i }): Issue => ({ code: 'unknown_block', path: `/block_ids/${i}`, message: `no block with id "${id}"`, hint: 'Create the block first (POST /v1/blocks), or list blocks for its id.' }));
  if (missing.length) throw new AppError('not_found:block', `${missing.length} of the blocks do not exist.`, { issues: missing });

  const taken = new Set<string>();
  const specIdOf = new Map(request.block_ids.map((id) => [id, uniqueId(slugify(byId.get(id)!.name), taken)]));
  const edges = await deps.blocks.edgesAmong(principal, request.block_ids);
  const schedule = typeof settings.schedule === 'string' ? { cron: settings.schedule } : settings.schedule;
  const { pathOf, ...triggers } = seedTriggers(
    { ...settings, schedule },
    { blockIdOf: specIdOf, names: new Map(request.block_ids.map((id) => [byId.get(id)!.name, specIdOf.get(id)!])) },
    taken,
  );

  const spec = {
    name: request.pipeline_name,
    ...(settings.description ? { description: settings.description } : {}),
    blocks: request.block_ids.map((id) => {
      const block = byId.get(id)!;
      return {
        id: specIdOf.get(id)!,
        type: `${block.block_type}@${block.block_type_version}`,
        name: block.name,
        config: { ...block.config, ...(overrides[id] ?? {}) },
      };
    }),
    edges: edges.map((e) => ({
      from: { block: specIdOf.get(e.source_block_id)!, port: e.source_port },
      to: { block: specIdOf.get(e.target_block_id)!, port: e.target_port },
    })),
    ...triggers,
    ...(settings.retry_policy ? { retry_policy: settings.retry_policy } : {}),
    ...(settings.environment ? { environment: settings.environment } : {}),
  };
  try {
    return await deps.pipelines.create(principal, spec, {
      kind: 'blocks',
      block_ids: request.block_ids,
      configuration: request.configuration,
      block_map: Object.fromEntries([...specIdOf].map(([uuid, specId]) => [specId, uuid])),
    });
  } catch (error) {
    throw inRequestTerms(error, pathOf);
  }
}

function splitConfiguration(configuration: Record<string, unknown>, blockIds: string[]) {
  const settingsPart: Record<string, unknown> = {};
  const overrides: Record<string, Record<string, unknown>> = {};
  const issues: Issue[] = [];
  for (const [key, value] of Object.entries(configuration)) {
    if (!UUID.test(key)) {
      // Each unknown key is its own issue at its own path (as block overrides are), so a typo
      // is pointed at rather than reported against the whole configuration object.
      if (SETTINGS.includes(key)) settingsPart[key] = value;
      else {
        issues.push({
          code: 'unknown_field',
          path: `/configuration${toPointer([key])}`,
          message: `unknown configuration key "${key}"`,
          hint: `configuration accepts ${SETTINGS.join(', ')}, and per-block config overrides keyed by block UUID.`,
        });
      }
    } else if (!blockIds.includes(key.toLowerCase())) {
      issues.push({ code: 'unknown_block', path: `/configuration/${key}`, message: `override for block "${key}", which is not in block_ids`, hint: 'Add the block to block_ids or drop the override.' });
    } else if (!value || typeof value !== 'object' || Array.isArray(value)) {
      issues.push({ code: 'wrong_type', path: `/configuration/${key}`, message: 'a block override must be an object of config fields', hint: 'Send e.g. {"batch_size": 500}.' });
    } else {
      overrides[key.toLowerCase()] = value as Record<string, unknown>;
    }
  }
  const parsed = settingsSchema.safeParse(settingsPart);
  if (!parsed.success) issues.push(...fromZodIssues(parsed.error.issues, '/configuration'));
  if (parsed.success && parsed.data.timezone && !parsed.data.schedule && !parsed.data.schedules?.length) {
    issues.push({ code: 'invalid_value', path: '/configuration/timezone', message: 'timezone applies to schedules, and there are none', hint: 'Add "schedule" (e.g. "0 */6 * * *") or "schedules", or drop "timezone".' });
  }
  if (issues.length || !parsed.success) throw new AppError('invalid:request', 'The configuration is invalid.', { issues });
  return { settings: parsed.data, overrides };
}
