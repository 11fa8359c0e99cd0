import type { BlockType } from '../catalog/block-type.ts';
import { applyConfigDefaults } from '../catalog/config-validator.ts';
import type { Issue } from '../errors.ts';
import type { PipelineSpec } from '../pipelines/spec-schema.ts';
import { missingSecrets, type Environment } from './environments.ts';

/**
 * The secrets a pipeline needs where it runs: each block type's declared secrets that its config
 * uses (a Postgres URL is not needed to read DuckDB), under the name the block's config gives
 * (e.g. connection_secret) or the declared default.
 */
export function requiredSecrets(spec: PipelineSpec, types: Map<string, BlockType>): Array<{ name: string; path: string }> {
  return spec.blocks.flatMap((block, i) => {
    const type = types.get(block.id);
    if (!type) return [];
    const config = applyConfigDefaults(type.config_schema, block.config);
    return type.secrets.filter((secret) => isNeeded(secret, config)).map((secret) => {
      const configured = secret.config_field ? block.config[secret.config_field] : undefined;
      return typeof configured === 'string'
        ? { name: configured, path: `/blocks/${i}/config/${secret.config_field}` }
        : { name: secret.name, path: `/blocks/${i}/type` };
    });
  });
}

/** Whether the config uses the secret: always, unless the manifest says when (any one condition). */
function isNeeded(secret: BlockType['secrets'][number], config: Record<string, unknown>): boolean {
  if (!secret.needed_when) return true;
  return secret.needed_when.some((condition) => {
    const value = condition.field.split('.').reduce<unknown>((at, key) => (at !== null && typeof at === 'object' ? (at as Record<string, unknown>)[key] : undefined), config);
    return condition.present ? value !== undefined && value !== null : condition.in!.includes(value as string | number | boolean);
  });
}

/** One issue per secret the environment lacks, at the spec path that names it. */
export function secretIssues(env: Environment, spec: PipelineSpec, types: Map<string, BlockType>): Issue[] {
  const needed = requiredSecrets(spec, types);
  const missing = new Set(missingSecrets(env, needed.map((s) => s.name)));
  return needed
    .filter((s) => missing.has(s.name))
    .map((s) => ({
      code: 'missing_secret',
      path: s.path,
      message: `secret ${s.name} is not set in environment "${env.name}"`,
      hint: env.secrets === 'inherit'
        ? `Set ${s.name} in the environment of this service and of Dagster, then deploy again.`
        : `Add ${s.name} to the "secrets" of "${env.name}" in DAGSTER_ENVIRONMENTS once it is set there, or point the block at a secret that is.`,
    }));
}
