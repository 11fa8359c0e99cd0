import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';

/**
 * A real git repository on disk, written commit by commit, for compiles to clone over file://.
 * `commit(files)` writes (a null text deletes) and commits; it returns the commit's hash.
 */
export class GitFixture {
  readonly dir: string;
  readonly url: string;

  constructor(name: string) {
    this.dir = join(mkdtempSync(join(tmpdir(), 'git-fixture-')), name);
    mkdirSync(this.dir);
    this.url = pathToFileURL(this.dir).href;
    this.git('init', '-q', '-b', 'main');
  }

  commit(files: Record<string, string | null>, message = 'change'): string {
    for (const [path, text] of Object.entries(files)) {
      const target = join(this.dir, path);
      if (text === null) rmSync(target, { force: true });
      else {
        mkdirSync(dirname(target), { recursive: true });
        writeFileSync(target, text);
      }
    }
    this.git('add', '-A');
    this.git('-c', 'user.name=test', '-c', 'user.email=test@example.com', 'commit', '-q', '-m', message);
    return this.git('rev-parse', 'HEAD').trim();
  }

  remove(): void {
    rmSync(dirname(this.dir), { recursive: true, force: true });
  }

  private git(...args: string[]): string {
    return execFileSync('git', args, { cwd: this.dir, env: { PATH: process.env.PATH, HOME: this.dir, GIT_CONFIG_GLOBAL: '/dev/null', GIT_CONFIG_NOSYSTEM: '1' }, encoding: 'utf8' });
  }
}

/** A repository block manifest as docs/code-repositories.md describes it. */
export function repoManifest(slug: string, callable: string, extra: Record<string, unknown> = {}): string {
  return `${JSON.stringify(
    {
      slug,
      name: slug.replace(/_/g, ' '),
      description: `Makes rows of greetings for the names in its config (${slug}).`,
      category: 'source',
      tags: ['greeting'],
      outputs: [{ name: 'rows', type: 'table', description: 'One greeting per name' }],
      config_schema: {
        type: 'object',
        properties: { names: { type: 'array', items: { type: 'string' }, default: ['ada'] } },
        examples: [{ names: ['ada', 'grace'] }],
      },
      python: { callable },
      compiles_to: 'asset',
      ...extra,
    },
    null,
    2,
  )}\n`;
}

/** A step function returning rows (the Python contract of docs/code-repositories.md). */
export const greetingModule = (word: string) => `from constellation_blocks.rows import ExtractedRows

WORD = ${JSON.stringify(word)}


def make_rows(context, block, **ports):
    rows = [(index, f"{WORD} {name}") for index, name in enumerate(block.config["names"], start=1)]
    return ExtractedRows(
        table="greetings", columns=["id", "text"], rows=rows, primary_key=["id"], previous_watermark=None,
        watermark=None, column_types=["bigint", "text"], nullable=[False, False], source=block.id,
    )
`;
