import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { ShardFiles } from '../../src/dagster/shard-files.ts';

/** Writes a shard project's files into `dir` (emptied first), for the load check to read; returns `dir`. */
export function writeShard(dir: string, files: ShardFiles): string {
  rmSync(dir, { recursive: true, force: true });
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), content);
  }
  return dir;
}
