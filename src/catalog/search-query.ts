/**
 * Turns what a person or model typed into a Postgres tsquery: each word becomes a prefix match
 * ("clickh" finds "clickhouse") and words are OR-ed, so "copy postgres into clickhouse" ranks the
 * blocks that match most words first instead of finding nothing. Words are reduced to [a-z0-9]
 * first, so user text never reaches tsquery syntax.
 */
export function toPrefixTsquery(text: string): string | null {
  const words = text
    .toLowerCase()
    .normalize('NFKD')
    .split(/[^a-z0-9]+/)
    .filter((w) => w.length > 0)
    .slice(0, 12);
  if (words.length === 0) return null;
  return [...new Set(words)].map((w) => `${w}:*`).join(' | ');
}
