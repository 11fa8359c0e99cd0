/**
 * Ids in a pipeline spec become Python identifiers in generated Dagster code (asset, job,
 * schedule and sensor names), so they are held to what Python and Dagster both accept.
 */
export const ID_PATTERN = /^[a-z][a-z0-9_]*$/;
export const ID_MAX_LENGTH = 63;

// Keywords and soft keywords of Python 3.11+, plus the names generated code itself defines or
// imports (src/compile/definitions-py.ts): a block called "postgres" would hide the module.
const RESERVED = new Set([
  'false', 'none', 'true', 'and', 'as', 'assert', 'async', 'await', 'break', 'class', 'continue',
  'def', 'del', 'elif', 'else', 'except', 'finally', 'for', 'from', 'global', 'if', 'import', 'in',
  'is', 'lambda', 'nonlocal', 'not', 'or', 'pass', 'raise', 'return', 'try', 'while', 'with',
  'yield', 'match', 'case', 'type', '_', 'dg', 'defs', 'context', 'config', 'pipeline', 'path',
  'postgres', 'clickhouse', 'duckdb',
]);

/** Why an id is unusable, or null when it is fine. */
export function idProblem(id: string): string | null {
  if (!ID_PATTERN.test(id)) return 'must be lower snake_case: a letter, then letters, digits or underscores';
  if (id.length > ID_MAX_LENGTH) return `must be at most ${ID_MAX_LENGTH} characters`;
  if (RESERVED.has(id)) return 'is reserved in Python or in generated code';
  return null;
}

/** Turns a display name into an id: "Load → ClickHouse (prod)" becomes "load_clickhouse_prod". */
export function slugify(name: string): string {
  const slug = name
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '_')
    .replace(/^_+|_+$/g, '')
    .slice(0, ID_MAX_LENGTH - 4)
    .replace(/_+$/, '');
  const base = slug === '' ? 'block' : /^[a-z]/.test(slug) ? slug : `block_${slug}`;
  return idProblem(base) ? `${base}_block` : base;
}

/** Makes `base` unique against `taken` by suffixing _2, _3, …; records the result in `taken`. */
export function uniqueId(base: string, taken: Set<string>): string {
  let id = base;
  for (let n = 2; taken.has(id); n++) id = `${base}_${n}`;
  taken.add(id);
  return id;
}
