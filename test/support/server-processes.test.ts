import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { until } from '../e2e/platform.ts';

const CLICKHOUSE = resolve(import.meta.dirname, 'clickhouse-server.ts');

/** clickhouse-server processes whose files are under `dir` (each run below has a TMPDIR of its own). */
function clickhouseUnder(dir: string): number[] {
  const pids: number[] = [];
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
      const state = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.[0];
      if (cmdline.includes('clickhouse-server') && cmdline.includes(dir) && state !== 'Z') pids.push(Number(pid));
    } catch {
      // gone while we looked
    }
  }
  return pids;
}

/**
 * A test process that starts a ClickHouse server and says "up"; once the server is seen running,
 * it is told to go on and runs `then`, or it gets `signal`. Answers the servers running under its
 * TMPDIR while it ran and once it has exited (a moment allowed for the reaper), and the files left.
 */
async function leftAfter(then: string, signal?: NodeJS.Signals): Promise<{ during: number[]; after: number[]; files: string[] }> {
  const dir = mkdtempSync(join(tmpdir(), 'constellation-leak-'));
  const code = `import { startClickHouse } from ${JSON.stringify(CLICKHOUSE)};\nawait startClickHouse();\nprocess.stdout.write('up\\n');\nprocess.stdin.once('data', () => { ${then} });`;
  const child = spawn(process.execPath, ['--input-type=module', '-e', code], { env: { ...process.env, TMPDIR: dir }, stdio: ['pipe', 'pipe', 'pipe'] });
  await new Promise<void>((resolveUp, reject) => {
    child.stdout!.on('data', (d) => String(d).includes('up') && resolveUp());
    child.once('exit', (c) => reject(new Error(`exited ${c} before the server was up`)));
  });
  const during = clickhouseUnder(dir);
  if (signal) child.kill(signal);
  else child.stdin!.write('go\n');
  if (child.exitCode === null) await new Promise((r) => child.once('exit', r));
  const after = await until(async () => clickhouseUnder(dir), (pids) => pids.length === 0, 10_000, 100);
  const files = await until(async () => readdirSync(dir), (f) => f.length === 0, 5_000, 100);
  return { during, after, files };
}

describe('a server a test started is stopped whatever happens to the test process', () => {
  it('when a later set-up step throws and nothing is left to call stop on', async () => {
    const { during, after, files } = await leftAfter(`throw new Error('the next set-up step failed');`);
    expect(during).toHaveLength(1);
    expect(after).toEqual([]);
    expect(files).toEqual([]);
  });

  it.each(['SIGTERM', 'SIGINT'] as const)('when the process gets %s', async (signal) => {
    const { during, after } = await leftAfter('', signal);
    expect(during).toHaveLength(1);
    expect(after).toEqual([]);
  });

  it('when the process is killed outright (SIGKILL, as vitest\'s watchdog does to workers)', async () => {
    const { during, after, files } = await leftAfter('', 'SIGKILL');
    expect(during).toHaveLength(1);
    expect(after).toEqual([]);
    expect(files).toEqual([]);
  });
});
