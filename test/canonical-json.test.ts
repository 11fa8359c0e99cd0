import { execFileSync } from 'node:child_process';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { canonicalJson, canonicalJsonFile } from '../src/canonical-json.ts';

const MODULE = resolve(import.meta.dirname, '../src/canonical-json.ts');
// Keys whose order differs between locales and between localeCompare and code units.
const KEYS = ['z', 'ä', 'a', 'B', 'b', '_x', 'Ä', 'é', 'Z', 'ı', 'I', 'i'];
// Plain code-unit order: digits, upper case, "_", lower case, then Latin-1 and beyond.
const EXPECTED = ['B', 'I', 'Z', '_x', 'a', 'b', 'i', 'z', 'Ä', 'ä', 'é', 'ı'];
const LOCALES = ['en_US.UTF-8', 'sv_SE.UTF-8', 'tr_TR.UTF-8', 'de_DE.UTF-8', 'C'];

/** Runs `code` in a fresh Node process whose ICU locale is `locale`; returns what it prints. */
function inLocale(locale: string, code: string): string {
  return execFileSync(process.execPath, ['--input-type=module', '-e', code], { env: { ...process.env, LC_ALL: locale, LANG: locale }, encoding: 'utf8' }).trim();
}

describe('canonical JSON', () => {
  it('orders keys by code unit, and gives the same text in every locale', () => {
    const value = Object.fromEntries(KEYS.map((k, i) => [k, { [k]: i, n: [{ b: 1, a: 2 }] }]));
    const code = `import { canonicalJson } from ${JSON.stringify(MODULE)}; process.stdout.write(canonicalJson(${JSON.stringify(value)}))`;
    const texts = LOCALES.map((locale) => inLocale(locale, code));
    expect(new Set(texts).size).toBe(1);
    expect(Object.keys(JSON.parse(texts[0]!))).toEqual(EXPECTED);
    expect(texts[0]).toBe(canonicalJson(value));
    expect(texts[0]).toContain('"n":[{"a":2,"b":1}]');
    // What a localeCompare order would have given differs between these locales: the test bites.
    const localeOrders = LOCALES.map((locale) => inLocale(locale, `process.stdout.write(JSON.stringify(${JSON.stringify(KEYS)}.sort((a, b) => a.localeCompare(b))))`));
    expect(new Set(localeOrders).size).toBeGreaterThan(1);
  });

  it('orders integer-like keys as text too, which a re-ordered object would not', () => {
    expect(canonicalJson({ 10: 'x', 2: 'y', 1: 'z', a: null })).toBe('{"1":"z","10":"x","2":"y","a":null}');
  });

  it('turns values into JSON as JSON.stringify does', () => {
    const value = { when: new Date(0), skip: undefined, f: () => 1, list: [undefined, 1, 'two'], nested: { empty: {}, none: [] } };
    expect(canonicalJson(value)).toBe('{"list":[null,1,"two"],"nested":{"empty":{},"none":[]},"when":"1970-01-01T00:00:00.000Z"}');
    expect(canonicalJson('\ud800')).toBe(JSON.stringify('\ud800'));
  });

  it('as a file: the bytes JSON.stringify(value, null, 2) gives for sorted keys, newline-terminated', () => {
    const value = { pipeline: { id: 'p', tags: ['a', 'b'], empty: [], none: {} }, format: 1, blocks: { x: { config: { batch: 5, name: null } } } };
    const sorted = { blocks: { x: { config: { batch: 5, name: null } } }, format: 1, pipeline: { empty: [], id: 'p', none: {}, tags: ['a', 'b'] } };
    expect(canonicalJsonFile(value)).toBe(`${JSON.stringify(sorted, null, 2)}\n`);
  });
});
