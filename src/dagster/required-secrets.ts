import type { BlockType } from '../catalog/block-type.ts';
import { applyConfigDefaults } from '../catalog/config-validator.ts';
import type { Issue } from '../errors.ts';
import type { PipelineSpec } from '../pipelines/spec-schema.ts';
import { loadManifests } from '../catalog/load-manifests.ts';
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

/**
 * The secret names an environment's pipelines may use: those it lists, or with "inherit" those the
 * built-in block types declare. Never any variable of this service's own environment: a pipeline
 * naming OPENAI_API_KEY must not learn from the answer whether it is set.
 */
export function allowedSecrets(env: Environment): readonly string[] {
  return env.secrets === 'inherit' ? builtinSecretNames() : env.secrets;
}

let builtin: string[] | undefined;
/** Each built-in manifest's `secrets[].name` (blocks/manifests; org-registered types cannot add to it). */
function builtinSecretNames(): string[] {
  builtin ??= [...new Set(loadManifests().flatMap((m) => m.secrets.map((s) => s.name)))].sort();
  return builtin;
}

/**
 * One issue per secret the pipeline names that the environment does not provide, at the spec path
 * that names it: a name it does not allow (said the same whether or not it is set anywhere), or an
 * allowed one that is not set.
 */
export function secretIssues(env: Environment, spec: PipelineSpec, types: Map<string, BlockType>): Issue[] {
  const needed = requiredSecrets(spec, types);
  const allowed = allowedSecrets(env);
  const missing = new Set(missingSecrets(env, needed.map((s) => s.name).filter((name) => allowed.includes(name))));
  return needed.flatMap((s): Issue[] => {
    if (!allowed.includes(s.name)) {
      return [{
        code: 'secret_not_allowed',
        path: s.path,
        message: `secret ${s.name} is not one environment "${env.name}" allows its pipelines to use`,
        hint: `Name one of ${allowed.join(', ')}, or add ${s.name} to the "secrets" list of "${env.name}" in DAGSTER_ENVIRONMENTS${env.secrets === 'inherit' ? ' (which then names every secret its pipelines may use)' : ''}.`,
      }];
    }
    if (!missing.has(s.name)) return [];
    return [{
      code: 'missing_secret',
      path: s.path,
      message: `secret ${s.name} is not set in environment "${env.name}"`,
      hint: `Set ${s.name} in the environment of this service and of Dagster, then deploy again.`,
    }];
  });
}
