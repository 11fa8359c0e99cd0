import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ShardChecker } from '../../src/adapters/dagster/shard-check.ts';
import { compilePipeline } from '../../src/compile/compile-pipeline.ts';
import { DEFAULT_PYTHON } from '../../src/dagster/environments.ts';
import { withPackages } from '../../src/dagster/repo-packages.ts';
import { onlyMembers, withMember, type ShardFiles } from '../../src/dagster/shard-files.ts';
import { writeShard } from '../support/shard-dir.ts';
import { PIPELINE, REPO_PACKAGE_NAME, flagshipSpec, repoBlockType, repoSpec, typesFor, typesWith } from '../compile/fixtures.ts';

const SHARD = 'local_shard_1';

/**
 * A repository's python/ folder as docs/code-repositories.md asks for it: a step function taking
 * (context, block, **ports), returning the rows its table output carries, importing a sibling
 * module relatively.
 */
const PACKAGE: Record<string, string> = {
  '__init__.py': '',
  'words.py': 'HELLO = "Hello"\n',
  'greeting.py': [
    'import dagster as dg',
    '',
    'from constellation_blocks.pipeline import Block',
    'from constellation_blocks.rows import ExtractedRows',
    '',
    'from .words import HELLO',
    '',
    '',
    'def make_rows(context: dg.AssetExecutionContext, block: Block, **ports) -> ExtractedRows:',
    '    rows = [(i, f"{HELLO} {name}") for i, name in enumerate(block.config["names"], start=1)]',
    '    return ExtractedRows(',
    '        table="greetings", columns=["id", "text"], rows=rows, primary_key=["id"], previous_watermark=None,',
    '        watermark=None, column_types=["bigint", "text"], nullable=[False, False], source=block.id,',
    '    )',
    '',
  ].join('\n'),
};
const packageFiles = Object.fromEntries(Object.entries(PACKAGE).map(([path, text]) => [`${REPO_PACKAGE_NAME}/${path}`, text]));

// The real load check (python -m constellation_blocks.check_shard) of a shard holding a pipeline
// that runs a code-repository block type, its package at the shard's root as a deploy writes it.
// The environment's Python runs the block library PYTHONPATH names (a worktree's), else the installed one.
describe('a shard with a code-repository package, loaded by the real check', () => {
  let root: string;
  let checker: ShardChecker;
  let shard: ShardFiles;
  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'constellation-repo-shard-'));
    checker = new ShardChecker(DEFAULT_PYTHON);
    const type = repoBlockType({ secrets: true });
    const spec = repoSpec(type);
    const greetings = await withPackages(compilePipeline({ ...PIPELINE, id: '6f1c2d3e-0000-4000-8000-0000000000b1', slug: 'greetings' }, spec, typesWith(spec, [type])), {
      packageFiles: async (packages) => (packages.includes(REPO_PACKAGE_NAME) ? packageFiles : {}),
    });
    shard = withMember(SHARD, withMember(SHARD, {}, compilePipeline(PIPELINE, flagshipSpec(), typesFor(flagshipSpec()))), greetings);
  });
  afterAll(() => {
    checker?.close();
    rmSync(root, { recursive: true, force: true });
  });

  it('loads the repository block as an asset of its pipeline, beside a pipeline of built-in blocks', { timeout: 180_000 }, async () => {
    const answer = await checker.check(writeShard(join(root, 'whole'), shard));
    expect(answer).toMatchObject({ ok: true });
    if (!answer.ok) return;
    expect(answer.definitions.assets).toEqual([
      ['local', 'customers_clickhouse', 'extract_customers'],
      ['local', 'customers_clickhouse', 'load_customers'],
      ['local', 'greetings', 'greet'],
      ['local', 'greetings', 'load'],
    ]);
  });

  it('loads what a deploy checks of it (onlyMembers keeps the package its component runs)', { timeout: 180_000 }, async () => {
    const answer = await checker.check(writeShard(join(root, 'checked'), onlyMembers(SHARD, shard, ['greetings'])));
    expect(answer).toMatchObject({ ok: true, definitions: { assets: [['local', 'greetings', 'greet'], ['local', 'greetings', 'load']] } });
  });

  it('refuses the shard when the package folder is missing, naming the package', { timeout: 180_000 }, async () => {
    const without = Object.fromEntries(Object.entries(shard).filter(([path]) => !path.startsWith(`${REPO_PACKAGE_NAME}/`)));
    const answer = await checker.check(writeShard(join(root, 'without'), without));
    expect(answer.ok).toBe(false);
    if (!answer.ok) expect(answer.error).toContain(REPO_PACKAGE_NAME);
  });
});
