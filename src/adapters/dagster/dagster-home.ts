import { execFile } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { DAGSTER_YAML } from './instance-config.ts';

const run = promisify(execFile);

/**
 * Makes `home` a ready DAGSTER_HOME before any Dagster process opens it: writes dagster.yaml, and
 * creates its SQLite storage (or upgrades it to the installed Dagster's schema) with one
 * `dagster instance migrate`, run to completion.
 *
 * Why first: the webserver and the daemon, started together on a home with no storage yet, each
 * create it. When they do so at the same moment, the one that finds the other's tables already
 * there stamps them with an older alembic revision while the other stamps "head", and both then
 * stop with "alembic_version has more than one head present" (Dagster 1.13's SqliteRunStorage and
 * the event-log index; seen once in an end-to-end run under load). With the storage complete
 * before they start, neither has anything left to create. Per-run event logs are created later by
 * one run's process and always stamped "head", a collision Dagster's own retry handles.
 */
export async function prepareDagsterHome(home: string, venvBin: string, env: NodeJS.ProcessEnv = process.env): Promise<void> {
  mkdirSync(home, { recursive: true });
  writeFileSync(join(home, 'dagster.yaml'), DAGSTER_YAML);
  try {
    await run(join(venvBin, 'dagster'), ['instance', 'migrate'], { env: { ...env, DAGSTER_HOME: home }, maxBuffer: 16 * 1024 * 1024 });
  } catch (error) {
    const e = error as { stderr?: string; stdout?: string; message: string };
    throw new Error(`dagster instance migrate failed for DAGSTER_HOME ${home}: ${(e.stderr || e.stdout || e.message).trim().slice(-2000)}`);
  }
}
