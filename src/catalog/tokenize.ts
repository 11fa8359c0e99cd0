/**
 * Words for search: lower case, split on anything not a letter or digit, and a light English
 * stem so "loading", "loads" and "load" meet. Queries and documents go through the same path.
 */
export function tokenize(text: string): string[] {
  return text
    .toLowerCase()
    .normalize('NFKD')
    .split(/[^a-z0-9]+/)
    .filter((w) => w.length > 0)
    .map(stem);
}

const SUFFIXES = ['ing', 'ed', 'es', 's'];

function stem(word: string): string {
  for (const suffix of SUFFIXES) {
    if (word.length - suffix.length >= 4 && word.endsWith(suffix) && !word.endsWith('ss')) return word.slice(0, -suffix.length);
  }
  return word;
}
