import rules from './dagster-names.json' with { type: 'json' };

/**
 * What the pinned Dagster refuses in names and partition keys, read from dagster-names.json,
 * which scripts/dagster-names.sh takes from the installed Dagster (a test keeps the two equal).
 * Checking these at validation turns a load failure in Dagster into a 400 with a path.
 */
export const DAGSTER_VERSION = rules.dagster_version;
const DISALLOWED = new Set(rules.disallowed_names);
const VALID_NAME = new RegExp(rules.valid_name_regex);
const PYTHON_KEYWORDS = new Set(rules.python_keywords);

/** Why Dagster would refuse `name` as an asset, op, job, schedule or sensor name, or null. */
export function dagsterNameProblem(name: string): string | null {
  if (DISALLOWED.has(name)) return `is a name Dagster ${DAGSTER_VERSION} refuses (it conflicts with a Dagster or Python reserved word)`;
  if (!VALID_NAME.test(name)) return `is not a Dagster name (Dagster takes ${rules.valid_name_regex})`;
  return null;
}

export const isPythonKeyword = (name: string) => PYTHON_KEYWORDS.has(name);

const TIME_ZONES = new Set(rules.time_zones);

/**
 * An IANA zone name that Dagster's zoneinfo loads on any machine: one of the pinned tzdata's
 * zones, spelled exactly (zoneinfo takes neither other letter cases nor UTC offsets). Node's Intl
 * is not the judge: ICU still knows legacy names tzdata dropped ("SystemV/AST4").
 */
export const isTimeZone = (name: string) => TIME_ZONES.has(name);

const SUBSTRING_NAMES: Record<string, string> = {
  '...': 'three dots ("...", Dagster\'s range separator)',
  '\u0007': 'a bell character (\\a)',
  '\b': 'a backspace (\\b)',
  '\f': 'a form feed (\\f)',
  '\n': 'a line feed (\\n)',
  '\r': 'a carriage return (\\r)',
  '\t': 'a tab (\\t)',
  '\v': 'a vertical tab (\\v)',
  '\u0000': 'a NUL character (\\0)',
};

/** The substrings Dagster refuses in a partition key that `key` contains, described for a message. */
export function partitionKeyProblems(key: string): string[] {
  return rules.invalid_partition_substrings.filter((s) => key.includes(s)).map((s) => SUBSTRING_NAMES[s] ?? JSON.stringify(s));
}

/** `key` with every substring Dagster refuses replaced, for a hint. */
export function cleanPartitionKey(key: string): string {
  let clean = key;
  for (const s of rules.invalid_partition_substrings) clean = clean.split(s).join(s === '...' ? '-' : ' ');
  return clean.trim().replace(/\s+/g, ' ');
}
