/**
 * Canonical JSON: the same data gives the same text in every process, on every machine, in every
 * locale. What the store hashes (a version's spec_hash), what the compiler writes (pipeline.json)
 * and what approval tokens are bound to (a call's arguments) all come from here.
 *
 * Object keys are in plain UTF-16 code-unit order (`sort()` with no comparator) at every level:
 * never `localeCompare`, whose order follows the ICU locale of the process (Swedish puts "ä" after
 * "z", English beside "a"), which a hash every instance must agree on cannot depend on. The text
 * is built here rather than by `JSON.stringify` of a re-ordered object because a JavaScript object
 * lists integer-like keys ("2", "10") first in numeric order whatever order they were added in.
 * Values become what `JSON.stringify` makes of them (toJSON honoured; undefined and functions
 * left out of objects and null in arrays).
 */
export function canonicalJson(value: unknown): string {
  return write(value, '', '', '') ?? 'null';
}

/** The same, two-space indented and newline-terminated: for files people read (pipeline.json). */
export function canonicalJsonFile(value: unknown): string {
  return `${write(value, '', '  ', '') ?? 'null'}\n`;
}

function write(input: unknown, key: string, indent: string, depth: string): string | undefined {
  let value = input;
  if (value !== null && typeof value === 'object' && typeof (value as { toJSON?: unknown }).toJSON === 'function') {
    value = (value as { toJSON(key: string): unknown }).toJSON(key);
  }
  if (value instanceof Number || value instanceof String || value instanceof Boolean) value = value.valueOf();
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  const inner = depth + indent;
  const [open, close, colon] = indent ? [`\n${inner}`, `\n${depth}`, ': '] : ['', '', ':'];
  if (Array.isArray(value)) {
    if (value.length === 0) return '[]';
    const items = value.map((item, i) => write(item, String(i), indent, inner) ?? 'null');
    return `[${open}${items.join(`,${open}`)}${close}]`;
  }
  const record = value as Record<string, unknown>;
  const members: string[] = [];
  for (const name of Object.keys(record).sort()) {
    const text = write(record[name], name, indent, inner);
    if (text !== undefined) members.push(`${JSON.stringify(name)}${colon}${text}`);
  }
  return members.length === 0 ? '{}' : `{${open}${members.join(`,${open}`)}${close}}`;
}
