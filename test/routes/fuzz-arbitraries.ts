import fc from 'fast-check';

/**
 * fast-check arbitraries for fuzzing the service's entrances: values shaped by a JSON Schema (a
 * route's request body from /openapi.json, a tool's input schema) whose leaves are, often enough,
 * what a hostile caller sends. Known-good examples are mutated too, so hostile values also reach
 * the layers behind the schema.
 */

/** A string that stands for a value nested too deep to build as a plain literal; see `materialise`. */
export const DEEP = '\u0001DEEP\u0001';
const DEEP_LEVELS = 5_000;

const UNITS = ['\u0000', '\ud800', '\udfff', '"', "'", '\\', '\n', '\t', '`', '$', '{', '}', '<', '>', '%', '/', '~', '.', ' ', 'a', 'Z', '_', '0', 'é', '😀', '\u202e', '\ufeff'];

/** Text with NULs, lone surrogates, quotes and escapes in it, or very long. */
export const hostileString: fc.Arbitrary<string> = fc.oneof(
  { weight: 6, arbitrary: fc.array(fc.constantFrom(...UNITS), { maxLength: 12 }).map((u) => u.join('')) },
  { weight: 1, arbitrary: fc.constantFrom("'; DROP TABLE pipelines; --", '__import__("os").system("id")', '${process.exit(1)}', '../../etc/passwd', '\\u0000', 'x'.repeat(10_000), '\ud800'.repeat(3)) },
);

/** Integers past int4 and the safe range, negative, fractional. */
export const hostileNumber: fc.Arbitrary<number> = fc.constantFrom(0, -1, 1, 2_147_483_647, 2_147_483_648, 99_999_999_999, 2 ** 53, -(2 ** 31) - 1, 1e308, 1.5, -0);

/** Any of the above, or nesting far past the limit, or the wrong type. */
export const hostileLeaf: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 5, arbitrary: hostileString },
  { weight: 2, arbitrary: hostileNumber },
  { weight: 1, arbitrary: fc.constant(DEEP) },
  { weight: 1, arbitrary: fc.constantFrom(null, true, [], {}) },
);

export interface FuzzContext {
  /** Ids that exist, so some requests get past "not found" to the store. */
  uuids: readonly string[];
  /** Plausible strings (names, slugs, environments, ports). */
  words: readonly string[];
}

type Schema = Record<string, any>;

/** Values shaped by `schema` (resolving $ref in `root`), with hostile leaves one time in four. */
export function fromSchema(schema: Schema, root: Schema, ctx: FuzzContext, depth = 0): fc.Arbitrary<unknown> {
  const shaped = shapedBy(schema, root, ctx, depth);
  return fc.oneof({ weight: 3, arbitrary: shaped }, { weight: 1, arbitrary: hostileLeaf });
}

function shapedBy(schema: Schema, root: Schema, ctx: FuzzContext, depth: number): fc.Arbitrary<unknown> {
  if (typeof schema.$ref === 'string') return shapedBy(resolve(schema.$ref, root), root, ctx, depth);
  if ('const' in schema) return fc.constant(schema.const);
  if (Array.isArray(schema.enum)) return fc.constantFrom(...schema.enum);
  const alternatives = schema.oneOf ?? schema.anyOf;
  if (Array.isArray(alternatives)) return fc.oneof(...alternatives.map((s: Schema) => shapedBy(s, root, ctx, depth)));
  if (Array.isArray(schema.type)) return fc.oneof(...schema.type.map((type: string) => shapedBy({ ...schema, type }, root, ctx, depth)));
  // Deep enough: the leaves matter, not more structure.
  if (depth > 4) return hostileLeaf;
  switch (schema.type) {
    case 'object': {
      const properties: Record<string, Schema> = schema.properties ?? {};
      const keys = Object.keys(properties);
      const record = fc.record(Object.fromEntries(keys.map((k) => [k, fromSchema(properties[k]!, root, ctx, depth + 1)])), { requiredKeys: (schema.required ?? []).filter((k: string) => keys.includes(k)) });
      const extra = fc.dictionary(hostileString, hostileLeaf, { maxKeys: 2 });
      return keys.length === 0 ? extra : fc.oneof({ weight: 4, arbitrary: record }, { weight: 1, arbitrary: fc.tuple(record, extra).map(([a, b]) => ({ ...b, ...a })) });
    }
    case 'array':
      return fc.array(fromSchema(schema.items ?? {}, root, ctx, depth + 1), { minLength: Math.min(schema.minItems ?? 0, 3), maxLength: 3 });
    case 'string':
      if (schema.format === 'uuid') return fc.oneof(fc.constantFrom(...ctx.uuids), fc.uuid());
      return fc.oneof(fc.constantFrom(...ctx.words), fc.string({ maxLength: 20 }));
    case 'integer':
      return fc.oneof(fc.integer({ min: schema.minimum ?? -1000, max: Math.min(schema.maximum ?? 1000, 2 ** 31) }), hostileNumber);
    case 'number':
      return fc.oneof(fc.double({ noNaN: true, noDefaultInfinity: true }), hostileNumber);
    case 'boolean':
      return fc.boolean();
    case 'null':
      return fc.constant(null);
    default:
      // Free-form ({}): any JSON, hostile leaves included.
      return fc.oneof(hostileLeaf, fc.dictionary(hostileString, hostileLeaf, { maxKeys: 3 }), fc.array(hostileLeaf, { maxLength: 3 }));
  }
}

function resolve(ref: string, root: Schema): Schema {
  const target = ref.replace(/^#\//, '').split('/').reduce<any>((node, key) => node?.[key.replace(/~1/g, '/').replace(/~0/g, '~')], root);
  if (!target) throw new Error(`fuzz: cannot resolve ${ref}`);
  return target;
}

/** `example` with one of its leaves (or the whole of it) replaced by a hostile value. */
export function mutated(example: unknown): fc.Arbitrary<unknown> {
  const paths = leafPaths(example);
  return fc.tuple(fc.nat(), hostileLeaf).map(([pick, leaf]) => {
    const path = paths[pick % paths.length]!;
    if (path.length === 0) return leaf;
    const copy = structuredClone(example) as any;
    let node = copy;
    for (const key of path.slice(0, -1)) node = node[key];
    node[path.at(-1)!] = leaf;
    return copy;
  });
}

function leafPaths(value: unknown, at: Array<string | number> = []): Array<Array<string | number>> {
  if (value === null || typeof value !== 'object') return [at];
  const entries: Array<[string | number, unknown]> = Array.isArray(value) ? value.map((v, i) => [i, v]) : Object.entries(value);
  if (entries.length === 0) return [at];
  return [at, ...entries.flatMap(([k, v]) => leafPaths(v, [...at, k]))];
}

/** JSON text for `value`, each DEEP leaf written as arrays nested 5,000 deep (JSON.stringify cannot write those). */
export function toJsonText(value: unknown): string {
  const deep = `${'['.repeat(DEEP_LEVELS)}${']'.repeat(DEEP_LEVELS)}`;
  return (JSON.stringify(value) ?? 'null').replaceAll(JSON.stringify(DEEP), deep);
}

/** `value` with each DEEP leaf replaced by real arrays nested 5,000 deep (for callers that take objects). */
export function materialise(value: unknown): unknown {
  if (value === DEEP) {
    let deep: unknown = [];
    for (let i = 1; i < DEEP_LEVELS; i++) deep = [deep];
    return deep;
  }
  if (value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map(materialise);
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, materialise(v)]));
}

/**
 * Percent-encodes for a URL as a hostile client would: a lone surrogate becomes the three bytes
 * that would encode it (not valid UTF-8), where encodeURIComponent would throw.
 */
export function encodeHostile(text: string): string {
  return text.replace(/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]|[^]/gu, (ch) => {
    if (ch.length === 1 && ch.charCodeAt(0) >= 0xd800 && ch.charCodeAt(0) <= 0xdfff) {
      const cp = ch.charCodeAt(0);
      return [0xe0 | (cp >> 12), 0x80 | ((cp >> 6) & 0x3f), 0x80 | (cp & 0x3f)].map((b) => `%${b.toString(16).toUpperCase()}`).join('');
    }
    return encodeURIComponent(ch);
  });
}
