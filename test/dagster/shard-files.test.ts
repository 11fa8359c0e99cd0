import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { componentsOf, onlyMembers, parseShardName, shardName, withMember, withoutMember, type ShardMember } from '../../src/dagster/shard-files.ts';

const member = (componentName: string, requirements: string[] = [], pipelineJson = '{}\n'): ShardMember => ({
  componentName,
  files: { 'defs.yaml': `type: constellation_blocks.PipelineComponent\n`, 'pipeline.json': pipelineJson },
  requirements,
});

describe('a shard project\'s files', () => {
  const shard = shardName('acme', 1);

  it('names shards by org slug and number, and tells them from legacy locations', () => {
    expect(shard).toBe('acme_shard_1');
    expect(parseShardName('acme_shard_12')).toEqual({ orgSlug: 'acme', n: 12 });
    // The number is the last part: an org slug may itself end in _shard_<n>.
    expect(parseShardName('acme_shard_2_shard_1')).toEqual({ orgSlug: 'acme_shard_2', n: 1 });
    expect(parseShardName('pipeline_0123456789ab')).toBeNull();
    expect(parseShardName('acme_shard_0')).toBeNull();
  });

  it('is the fixed template plus one folder per pipeline, with the union of their requirements', () => {
    const one = withMember(shard, {}, member('sales_sync', ['psycopg[binary]==3.3.9']));
    const two = withMember(shard, one, member('orders', ['duckdb==1.5.6', 'psycopg[binary]==3.3.9']));
    expect(Object.keys(two)).toEqual([
      'pyproject.toml',
      'requirements.txt',
      'constraints.txt',
      'acme_shard_1/__init__.py',
      'acme_shard_1/definitions.py',
      'acme_shard_1/defs/__init__.py',
      'acme_shard_1/defs/orders/defs.yaml',
      'acme_shard_1/defs/orders/pipeline.json',
      'acme_shard_1/defs/orders/requirements.txt',
      'acme_shard_1/defs/sales_sync/defs.yaml',
      'acme_shard_1/defs/sales_sync/pipeline.json',
      'acme_shard_1/defs/sales_sync/requirements.txt',
    ]);
    expect(two['pyproject.toml']).toContain('root_module = "acme_shard_1"');
    expect(two['acme_shard_1/definitions.py']).toContain('import acme_shard_1.defs');
    expect(two['acme_shard_1/definitions.py']).toContain('dg.load_from_defs_folder(path_within_project=Path(__file__).parent)');
    // Shards hold their pipelines only: the source inspection job is the environment's system location's.
    expect(two['acme_shard_1/definitions.py']).not.toContain('inspect_source');
    const lines = (text: string) => text.split('\n').filter((l) => l && !l.startsWith('#'));
    // The block library's wheel from the workspace's wheels folder (two up from locations/<shard>/), the stack pinned beside.
    expect(lines(two['requirements.txt']!)).toEqual(['--find-links ../../wheels', '-c constraints.txt', 'constellation-blocks==0.1.0', 'dagster==1.13.27', 'duckdb==1.5.6', 'psycopg[binary]==3.3.9']);
    expect(two['constraints.txt']).toBe(readFileSync(resolve(import.meta.dirname, '../../blocks/python/constraints.txt'), 'utf8'));
    // A member's own file lists pins only: the shard's options are the template's.
    expect(two['acme_shard_1/defs/orders/requirements.txt']).not.toContain('--');
    expect(componentsOf(shard, two)).toEqual(['orders', 'sales_sync']);
  });

  it('replaces a pipeline\'s folder whole on redeploy, leaving the others byte for byte', () => {
    const start = withMember(shard, withMember(shard, {}, member('a', [], '{"v": 1}\n')), member('b', [], '{"b": 1}\n'));
    const again = withMember(shard, { ...start, 'acme_shard_1/defs/a/stale.txt': 'from an earlier version' }, member('a', [], '{"v": 2}\n'));
    expect(again['acme_shard_1/defs/a/pipeline.json']).toBe('{"v": 2}\n');
    expect(again['acme_shard_1/defs/a/stale.txt']).toBeUndefined();
    for (const path of Object.keys(start).filter((p) => p.includes('/defs/b/'))) expect(again[path]).toBe(start[path]);
    // Deterministic: the same members give the same bytes.
    expect(withMember(shard, again, member('a', [], '{"v": 2}\n'))).toEqual(again);
  });

  it('drops a pipeline\'s folder and its requirements; the last one out leaves no shard', () => {
    const both = withMember(shard, withMember(shard, {}, member('a', ['duckdb==1.5.6'])), member('b'));
    const left = withoutMember(shard, both, 'a')!;
    expect(componentsOf(shard, left)).toEqual(['b']);
    expect(left['requirements.txt']).not.toContain('duckdb');
    expect(withoutMember(shard, left, 'b')).toBeNull();
    // Taking out a pipeline that is not there changes nothing.
    expect(withoutMember(shard, left, 'zzz')).toEqual(left);
  });

  it('checks what a deploy writes as a project of those components alone, a name-prefix of another left out', () => {
    const all = ['sales', 'sales_eu', 'orders'].reduce((files, name) => withMember(shard, files, member(name, name === 'orders' ? ['duckdb==1.5.6'] : [])), {});
    const checked = onlyMembers(shard, all, ['sales']);
    expect(componentsOf(shard, checked)).toEqual(['sales']);
    expect(checked).toEqual(withMember(shard, {}, member('sales')));
    expect(componentsOf(shard, onlyMembers(shard, all, ['sales', 'orders']))).toEqual(['orders', 'sales']);
  });

  describe('with code-repository packages', () => {
    const A = 'constellation_repo_etl_blocks_aaaaaaaaaaaa';
    const B = 'constellation_repo_etl_blocks_bbbbbbbbbbbb';
    const code = (pkg: string, body = 'def make_rows(context, block): ...\n') => ({ [`${pkg}/greeting.py`]: body, [`${pkg}/helpers/__init__.py`]: '' });
    const running = (componentName: string, packages: string[], packageFiles: Record<string, string> = {}): ShardMember => ({ ...member(componentName), packages, packageFiles });
    const packagesIn = (files: Record<string, string>) => [...new Set(Object.keys(files).filter((p) => p.startsWith('constellation_repo_')).map((p) => p.split('/')[0]))].sort();

    it('places a member\'s packages at the shard\'s root, beside pyproject.toml, and records them in its folder', () => {
      const files = withMember(shard, withMember(shard, {}, member('plain')), running('greets', [A], code(A)));
      expect(files[`${A}/greeting.py`]).toBe('def make_rows(context, block): ...\n');
      expect(files[`${A}/helpers/__init__.py`]).toBe('');
      expect(files['acme_shard_1/defs/greets/packages.txt']).toBe(`# Code-repository packages pipeline component greets runs, at the shard's root.\n${A}\n`);
      // A member without packages writes no packages.txt: shards of other pipelines keep their bytes.
      expect(Object.keys(files).filter((p) => p.startsWith('acme_shard_1/defs/plain/'))).toEqual(['acme_shard_1/defs/plain/defs.yaml', 'acme_shard_1/defs/plain/pipeline.json', 'acme_shard_1/defs/plain/requirements.txt']);
      expect(withMember(shard, {}, member('plain'))).toEqual(withoutMember(shard, files, 'greets'));
    });

    it('keeps a package while any member runs it, and drops it when the last one leaves or moves on', () => {
      const both = withMember(shard, withMember(shard, {}, running('one', [A], code(A))), running('two', [A, B], { ...code(A), ...code(B) }));
      expect(packagesIn(both)).toEqual([A, B]);
      const oneLeft = withoutMember(shard, both, 'two')!;
      expect(packagesIn(oneLeft)).toEqual([A]);
      expect(oneLeft[`${A}/greeting.py`]).toBe(both[`${A}/greeting.py`]);
      // "one" redeployed on commit B: A has no member left.
      const movedOn = withMember(shard, oneLeft, running('one', [B], code(B)));
      expect(packagesIn(movedOn)).toEqual([B]);
      expect(withoutMember(shard, movedOn, 'one')).toBeNull();
    });

    it('keeps a package in place when a member running it is written without its files, and replaces it whole when given', () => {
      const start = withMember(shard, {}, running('one', [A], { ...code(A), [`${A}/old.sql`]: 'select 1' }));
      const again = withMember(shard, start, running('two', [A]));
      expect(again[`${A}/old.sql`]).toBe('select 1');
      const replaced = withMember(shard, start, running('one', [A], code(A, 'def make_rows(context, block): return 2\n')));
      expect(replaced[`${A}/old.sql`]).toBeUndefined();
      expect(replaced[`${A}/greeting.py`]).toBe('def make_rows(context, block): return 2\n');
      expect(() => withMember(shard, {}, running('three', [B]))).toThrow(`runs package ${B}`);
    });

    it('gives the load check the packages of the components it checks, and only those', () => {
      const all = withMember(shard, withMember(shard, withMember(shard, {}, running('one', [A], code(A))), running('two', [B], code(B))), member('three'));
      expect(packagesIn(onlyMembers(shard, all, ['one']))).toEqual([A]);
      expect(onlyMembers(shard, all, ['one'])).toEqual(withMember(shard, {}, running('one', [A], code(A))));
      expect(packagesIn(onlyMembers(shard, all, ['two', 'three']))).toEqual([B]);
      expect(packagesIn(onlyMembers(shard, all, ['three']))).toEqual([]);
    });

    it('counts only the components\' requirements, not a package\'s own requirements.txt', () => {
      const files = withMember(shard, {}, running('one', [A], { ...code(A), [`${A}/data/requirements.txt`]: 'evil==6.6.6\n' }));
      expect(files['requirements.txt']).not.toContain('evil');
    });
  });
});
