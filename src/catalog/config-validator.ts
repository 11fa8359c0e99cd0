import { Ajv2020, type ErrorObject, type Options, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import { canonicalJson } from '../canonical-json.ts';
import type { Issue } from '../errors.ts';
import { requireLocalRuntime, WORKERS_RUNTIME } from '../runtime.ts';
import { BLOCK_REF, blockRefMarkerSchema, type Category } from './manifest-schema.ts';

// ajv-formats is CommonJS; its default export arrives wrapped under ESM.
const addFormats = ((addFormatsModule as unknown as { default?: typeof addFormatsModule }).default ??
  addFormatsModule) as unknown as (ajv: Ajv2020) => void;

/**
 * The two validators: one that checks, and one that fills in defaults (compiled code reads
 * complete configs, so a default decided today is the one that runs, whatever the catalog says
 * later). `extra` adds options (scripts/worker-validators.ts: standalone code for Workers).
 */
export function configValidators(extra: Options = {}) {
  const checking = new Ajv2020({ allErrors: true, strict: false, ...extra });
  addFormats(checking);
  const withDefaults = new Ajv2020({ strict: false, useDefaults: true, ...extra });
  addFormats(withDefaults);
  return { checking, withDefaults };
}

const { checking: ajv, withDefaults } = configValidators();

/** Validators compiled ahead of time, by the schema's canonical JSON (a store's jsonb reorders keys): where code may not be generated at run time (Workers). */
export interface PrecompiledValidators {
  checking: ReadonlyMap<string, ValidateFunction>;
  withDefaults: ReadonlyMap<string, ValidateFunction>;
}
let precompiled: PrecompiledValidators | null = null;

/**
 * Workers forbid generating code at run time, which is how ajv validates; the Worker bundles the
 * catalog's validators compiled ahead (scripts/worker-validators.ts) and hands them in here.
 */
export function usePrecompiledValidators(validators: PrecompiledValidators): void {
  precompiled = validators;
}

/**
 * Compiles once per distinct schema and instance. Keyed by the schema's text: every store read
 * hands back a new object for the same schema, and compiling costs far more than serialising.
 * Bounded, since org catalogs can keep growing.
 */
function cachedCompiler(instance: Ajv2020, ahead: (v: PrecompiledValidators) => ReadonlyMap<string, ValidateFunction>, max = 5_000) {
  const compiled = new Map<string, ValidateFunction>();
  return (schema: object): ValidateFunction => {
    if (precompiled) {
      const validate = ahead(precompiled).get(canonicalJson(schema));
      // A schema the bundle does not carry: a block type from a code repository, compiled by a Node server.
      if (!validate) requireLocalRuntime(WORKERS_RUNTIME, 'Checking a config against a block type outside the built-in catalog');
      return validate!;
    }
    const key = JSON.stringify(schema);
    let validate = compiled.get(key);
    if (!validate) {
      validate = instance.compile(schema);
      if (compiled.size >= max) compiled.delete(compiled.keys().next().value!);
      compiled.set(key, validate);
    }
    return validate;
  };
}

/** Throws when the schema itself is broken. */
export const compileConfigSchema = cachedCompiler(ajv, (v) => v.checking);
const compileWithDefaults = cachedCompiler(withDefaults, (v) => v.withDefaults);

/** A copy of `config` with the schema's defaults filled in; the input is not changed. */
export function applyConfigDefaults(schema: object, config: Record<string, unknown>): Record<string, unknown> {
  const copy = structuredClone(config);
  compileWithDefaults(schema)(copy);
  return copy;
}

type JsonSchema = { properties?: Record<string, JsonSchema>; items?: JsonSchema; [k: string]: unknown };

/** A config value that names another block of the pipeline (its schema carries the x-block-ref marker). */
export interface BlockRef {
  path: string;
  value: string;
  categories: Category[];
}

/** Every value in a config (valid against `schema`) at a place the schema marks as naming blocks. */
export function blockRefsIn(schema: object, config: unknown, basePath: string): BlockRef[] {
  const node = schema as JsonSchema;
  const marker = blockRefMarkerSchema.safeParse(node[BLOCK_REF]);
  if (marker.success && typeof config === 'string') return [{ path: basePath, value: config, categories: marker.data.categories }];
  if (Array.isArray(config) && node.items) return config.flatMap((item, i) => blockRefsIn(node.items!, item, `${basePath}/${i}`));
  if (config && typeof config === 'object' && node.properties) {
    return Object.entries(config).flatMap(([key, value]) => {
      const child = node.properties![key];
      return child ? blockRefsIn(child, value, `${basePath}/${key.replace(/~/g, '~0').replace(/\//g, '~1')}`) : [];
    });
  }
  return [];
}

/**
 * Checks a block config against its type's schema and writes each problem for a model: where it
 * is (`basePath` + the field), what is wrong, and what to send instead.
 */
export function checkConfig(schema: object, config: unknown, basePath: string): Issue[] {
  const validate = compileConfigSchema(schema);
  if (validate(config)) return [];
  // A failed "then" is reported by its own keyword (e.g. the field it requires); ajv's extra
  // 'must match "then" schema' at the parent would only repeat it without the field.
  return (validate.errors ?? []).filter((e) => e.keyword !== 'if').map((e) => describeError(schema as JsonSchema, e, basePath, valueAt(config, e.instancePath)));
}

function describeError(root: JsonSchema, e: ErrorObject, basePath: string, config: unknown): Issue {
  const path = `${basePath}${e.instancePath}`;
  const parent = schemaAt(root, e.instancePath);
  const params = e.params as Record<string, unknown>;
  switch (e.keyword) {
    case 'required': {
      const field = String(params.missingProperty);
      return {
        path: `${path}/${field}`,
        message: `config is missing the required field "${field}"`,
        hint: fieldHint(parent?.properties?.[field]) ?? `Add "${field}" to the config.`,
      };
    }
    case 'additionalProperties': {
      const field = String(params.additionalProperty);
      const allowed = Object.keys(parent?.properties ?? {});
      return {
        path: `${path}/${field}`,
        message: `"${field}" is not a config field of this block type`,
        hint: allowed.length ? `Remove it; the fields are: ${allowed.join(', ')}.` : 'Remove it.',
      };
    }
    case 'enum':
      return {
        path,
        message: `must be one of ${(params.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')}`,
        hint: fieldHint(parent) ?? 'Pick one of the allowed values.',
      };
    case 'oneOf': {
      // Alternatives that each require their own field ("exactly one of catalog_uri and catalog_uri_secret"): name the fields.
      const fields = (Array.isArray(parent?.oneOf) ? (parent.oneOf as JsonSchema[]) : []).flatMap((branch) => (Array.isArray(branch.required) ? (branch.required as string[]) : []));
      if (!fields.length) break;
      const given = fields.filter((field) => config !== null && typeof config === 'object' && Object.hasOwn(config, field));
      return {
        path,
        message: `config must have exactly one of ${fields.map((f) => `"${f}"`).join(', ')}${given.length ? `; it has ${given.map((f) => `"${f}"`).join(' and ')}` : ''}`,
        hint: fields.map((f) => `${f}: ${fieldHint(parent?.properties?.[f]) ?? 'see the config_schema.'}`).join(' '),
      };
    }
  }
  return { path, message: e.message ?? 'is invalid', hint: fieldHint(parent) ?? 'See the block type\'s config_schema.' };
}

function fieldHint(field: JsonSchema | undefined): string | undefined {
  if (!field) return undefined;
  const parts: string[] = [];
  if (typeof field.description === 'string') parts.push(field.description);
  if (field.type) parts.push(`Type: ${JSON.stringify(field.type)}.`);
  if (field.default !== undefined) parts.push(`Default: ${JSON.stringify(field.default)}.`);
  if (Array.isArray(field.examples) && field.examples.length) parts.push(`Example: ${JSON.stringify(field.examples[0])}.`);
  return parts.length ? parts.join(' ') : undefined;
}

/** The value at a JSON Pointer inside ``value``, undefined where there is none. */
function valueAt(value: unknown, pointer: string): unknown {
  let node = value;
  for (const raw of pointer.split('/').slice(1)) {
    if (node === null || typeof node !== 'object') return undefined;
    node = (node as Record<string, unknown>)[raw.replace(/~1/g, '/').replace(/~0/g, '~')];
  }
  return node;
}

/** The sub-schema that describes the value at a JSON Pointer, following properties and items. */
function schemaAt(root: JsonSchema, pointer: string): JsonSchema | undefined {
  let node: JsonSchema | undefined = root;
  for (const raw of pointer.split('/').slice(1)) {
    if (!node) return undefined;
    const key = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    node = /^\d+$/.test(key) && node.items ? node.items : node.properties?.[key];
  }
  return node;
}
