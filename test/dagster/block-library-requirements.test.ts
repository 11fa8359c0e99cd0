import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { BASE_REQUIREMENTS } from '../../src/compile/block-recipes.ts';
import { BLOCK_LIBRARY_VERSION, BLOCK_LIBRARY_WHEEL_NAME } from '../../src/dagster/block-library-wheel.ts';
import { DEFAULT_PYTHON } from '../../src/dagster/environments.ts';

const LIBRARY = resolve(import.meta.dirname, '../../blocks/python');

interface Declared { requirement: string; name: string; extras: string[]; extra: string | null; pinned: string | null; satisfied: boolean }
interface Facts { version: string; declared: Declared[]; imports: { file: string; module: string; dists: string[] }[]; core: string[] }

/** PEP 503 names: what pip compares. */
const canonical = (name: string) => name.toLowerCase().replace(/[-_.]+/g, '-');

/** The names a requirements file lists (options and comments aside), canonical. */
const listedNames = (path: string) =>
  readFileSync(path, 'utf8')
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line && !line.startsWith('#') && !line.startsWith('-'))
    .map((line) => canonical(/^[A-Za-z0-9._-]+/.exec(line)![0]));

describe('what the block library declares', () => {
  let facts: Facts;
  beforeAll(() => {
    // This checkout's library, not whichever one the virtualenv installed in editable mode.
    const out = execFileSync(DEFAULT_PYTHON, [resolve(import.meta.dirname, '../support/block_library_imports.py')], {
      cwd: LIBRARY,
      env: { ...process.env, PYTHONPATH: LIBRARY, PYTHONDONTWRITEBYTECODE: '1' },
      encoding: 'utf8',
    });
    facts = JSON.parse(out) as Facts;
  });

  const ownName = 'constellation-blocks';
  const external = () => facts.declared.filter((d) => d.name !== ownName);

  it('pins every dependency and extra in constraints.txt, within the range pyproject.toml gives', () => {
    expect(external().length).toBeGreaterThan(10);
    const unpinned = external().filter((d) => !d.satisfied).map((d) => `${d.requirement} (constraints.txt: ${d.pinned ?? 'no pin'})`);
    expect(unpinned).toEqual([]);
  });

  it('declares every package the library imports: what loading it imports as a dependency, the rest in an extra', () => {
    const core = new Set(facts.declared.filter((d) => d.extra === null).map((d) => d.name));
    const anywhere = new Set(external().map((d) => d.name));
    expect(facts.core).toEqual(expect.arrayContaining(['dagster', 'pyarrow', 'pydantic']));
    const undeclared = facts.imports.filter((i) => !i.dists.some((d) => anywhere.has(d))).map((i) => `${i.file}: ${i.module}`);
    expect(undeclared).toEqual([]);
    const notCore = facts.imports.filter((i) => facts.core.includes(i.module) && !i.dists.some((d) => core.has(d))).map((i) => `${i.file}: ${i.module}`);
    expect(notCore).toEqual([]);
  });

  it('offers `all`, every extra at once', () => {
    const extras = new Set(facts.declared.map((d) => d.extra).filter((e): e is string => e !== null && e !== 'all'));
    const all = facts.declared.find((d) => d.extra === 'all' && d.name === ownName);
    expect(new Set(all?.extras)).toEqual(extras);
  });

  it('is tested with what it declares: each declared package is in requirements.txt, the stack the tests install', () => {
    const tested = new Set(listedNames(resolve(LIBRARY, 'requirements.txt')));
    expect(external().map((d) => d.name).filter((name) => !tested.has(name))).toEqual([]);
  });

  it('has one version: pyproject.toml\'s, in the wheel\'s name and the pin every shard lists', () => {
    expect(BLOCK_LIBRARY_VERSION).toBe(facts.version);
    expect(BLOCK_LIBRARY_WHEEL_NAME).toBe(`constellation_blocks-${facts.version}-py3-none-any.whl`);
    expect(BASE_REQUIREMENTS).toContain(`constellation-blocks==${facts.version}`);
    // And the Dagster every shard pins is the one constraints.txt installs.
    const dagster = BASE_REQUIREMENTS.find((r) => r.startsWith('dagster=='));
    expect(readFileSync(resolve(LIBRARY, 'constraints.txt'), 'utf8').split('\n')).toContain(dagster);
  });
});
