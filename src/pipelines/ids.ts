import { FIXED_NAMES, uniqueId } from '../compile/naming.ts';
import { dagsterNameProblem, isPythonKeyword } from './dagster-rules.ts';

export { uniqueId };

/**
 * Ids in a pipeline spec become Dagster names (the last part of asset keys, and after the
 * pipeline's slug, job, schedule and sensor names) and keyword arguments of its asset functions,
 * so they are held to what Python and the pinned Dagster both accept: lower snake_case, no Python
 * keyword, none of Dagster's disallowed names (taken from the installed Dagster, see
 * dagster-rules.ts), none of the names compiled code reserves (naming.ts). Dagster sets no length
 * limit on names; 63 keeps asset keys, job names and log lines readable.
 */
export const ID_PATTERN = /^[a-z][a-z0-9_]*$/;
export const ID_MAX_LENGTH = 63;

/** Why an id is unusable, or null when it is fine. */
export function idProblem(id: string): string | null {
  if (!ID_PATTERN.test(id)) return 'must be lower snake_case: a letter, then letters, digits or underscores';
  if (id.length > ID_MAX_LENGTH) return `must be at most ${ID_MAX_LENGTH} characters`;
  const refused = dagsterNameProblem(id);
  if (refused) return refused;
  if (isPythonKeyword(id)) return 'is a Python keyword';
  if (FIXED_NAMES.includes(id)) return 'is a name compiled code reserves (each asset function\'s context parameter)';
  return null;
}

/**
 * A usable id made from `text`: lower snake_case, starting with a letter, and, when what is left
 * is reserved, with `_${suffix}` added ("Output" → "output_table" when the suffix is "table").
 */
export function usableId(text: string, suffix: string, fallback = `my_${suffix}`): string {
  const slug = text
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '_')
    .replace(/^_+|_+$/g, '')
    .slice(0, ID_MAX_LENGTH - suffix.length - 4)
    .replace(/_+$/, '');
  // "1extract" → "extract"; "2024" → "block_2024": drop leading digits only when letters remain.
  const letters = slug.replace(/^[^a-z]+/, '');
  const base = slug === '' ? fallback : letters !== '' ? letters : `${suffix}_${slug}`;
  return idProblem(base) ? `${base}_${suffix}` : base;
}

/** Turns a block's display name into an id: "Load → ClickHouse (prod)" becomes "load_clickhouse_prod". */
export const slugify = (name: string) => usableId(name, 'block', 'block');
