import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { namespaceBase, namespaceCandidates } from '../../src/code-repos/namespace.ts';
import { LAYOUT_LIMITS, readLayout } from '../../src/code-repos/read-layout.ts';
import { parseRepoManifest } from '../../src/code-repos/repo-manifest.ts';
import { repoManifest } from './git-fixture.ts';

// What a compile reads of a checkout, and the names it makes, on real folders (no git needed).

const made: string[] = [];
function checkout(files: Record<string, string | Buffer>): string {
  const dir = mkdtempSync(join(tmpdir(), 'layout-'));
  made.push(dir);
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), content);
  }
  return dir;
}
afterEach(() => {
  for (const dir of made.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe('readLayout', () => {
  it('reads manifests, python/ files by their path under python/ and requirements; nothing else', async () => {
    const layout = await readLayout(checkout({
      'blocks/a.json': '{}',
      'blocks/notes.md': 'ignored',
      'python/a.py': 'X = 1\n',
      'python/sql/query.sql': 'select 1',
      'python/__pycache__/a.cpython-312.pyc': Buffer.from([0, 1, 2]),
      'README.md': 'ignored',
      'requirements.txt': '# comment\npyarrow>=15\n',
    }));
    expect(layout).toEqual({
      manifests: [{ file: 'blocks/a.json', text: '{}' }],
      files: { 'a.py': 'X = 1\n', 'sql/query.sql': 'select 1' },
      requirements: ['# comment', 'pyarrow>=15', ''],
      errors: [],
    });
  });

  it('names a file that is not UTF-8 text', async () => {
    const layout = await readLayout(checkout({ 'blocks/a.json': '{}', 'python/model.bin': Buffer.from([0xff, 0xfe, 0x00]) }));
    expect(layout.errors).toEqual([expect.objectContaining({ file: 'python/model.bin', message: expect.stringContaining('not UTF-8') })]);
  });

  it(`refuses more than ${LAYOUT_LIMITS.maxFiles} files and more than 2 MB under python/`, async () => {
    const many = Object.fromEntries(Array.from({ length: LAYOUT_LIMITS.maxFiles + 1 }, (_, i) => [`python/m${i}.py`, '']));
    expect((await readLayout(checkout(many))).errors).toEqual([expect.objectContaining({ file: 'python/', message: expect.stringContaining(`at most ${LAYOUT_LIMITS.maxFiles}`) })]);
    const big = await readLayout(checkout({ 'python/data.txt': 'x'.repeat(LAYOUT_LIMITS.maxBytes + 1) }));
    expect(big.errors).toEqual([expect.objectContaining({ file: 'python/', message: expect.stringContaining('at most 2 MB') })]);
  });
});

describe('repository names', () => {
  it('makes a namespace of the repository name, with suffixes for when it is taken', () => {
    expect(namespaceBase('https://git.example.com/acme/etl-blocks.git')).toBe('etl_blocks');
    expect(namespaceBase('https://github.com/acme/2024--Blocks/')).toBe('repo_2024_blocks');
    const [first, ...rest] = namespaceCandidates('https://github.com/acme/etl-blocks.git', 'org-1');
    expect(first).toBe('etl_blocks');
    expect(rest[0]).toMatch(/^etl_blocks_[0-9a-f]{4}$/);
    expect(namespaceCandidates('https://github.com/acme/etl-blocks.git', 'org-2')[1]).not.toBe(rest[0]);
  });

  it('checks a manifest against the repository variant of the schema, naming the file and field', () => {
    expect(parseRepoManifest('blocks/a.json', repoManifest('a', 'mod:fn'), 'ns')).toHaveProperty('manifest.slug', 'a');
    const versioned = parseRepoManifest('blocks/a.json', repoManifest('a', 'mod:fn', { version: 2 }), 'ns');
    expect(versioned).toEqual({ errors: [expect.objectContaining({ file: 'blocks/a.json', message: expect.stringContaining('version') })] });
    const noFunction = parseRepoManifest('blocks/a.json', repoManifest('a', 'greeting.make_rows'), 'ns');
    expect(noFunction).toEqual({ errors: [expect.objectContaining({ path: '/python/callable', message: expect.stringContaining('"module:function"') })] });
    expect(parseRepoManifest('blocks/b.json', repoManifest('a', 'mod:fn'), 'ns')).toEqual({ errors: [expect.objectContaining({ file: 'blocks/b.json', path: '/slug' })] });
    expect(parseRepoManifest('blocks/a.json', '{not json', 'ns')).toEqual({ errors: [expect.objectContaining({ message: expect.stringContaining('not valid JSON') })] });
  });
});
