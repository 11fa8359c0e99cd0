import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createInterface } from 'node:readline';
import { TELEMETRY_OFF } from './telemetry-off.ts';

/** What a shard project defines, as the block library's check_shard lists it. */
export interface ShardDefinitions {
  assets: string[][];
  asset_checks: Array<{ asset: string[]; name: string }>;
  jobs: string[];
  schedules: string[];
  sensors: string[];
}

/**
 * `unready`: the check could not run at all — the environment's Python is missing, or lacks Dagster
 * or the block library (e.g. `npm run dagster` is still installing the virtualenv) — which says
 * nothing about the shard.
 */
export type ShardCheck = { ok: true; definitions: ShardDefinitions } | { ok: false; error: string; unready?: true };

/** Python's own words when the interpreter or the modules the check imports are not there. */
const UNREADY = /No module named '?(constellation_blocks|dagster)\b|Error while finding module specification for 'constellation_blocks/;

const MODULE = 'constellation_blocks.check_shard';

interface Pending {
  resolve(answer: ShardCheck | null): void;
}

/**
 * Loads a shard project the way Dagster would, in a Python subprocess, before it is put in place
 * (`python -m constellation_blocks.check_shard`, see the block library). A warm checker
 * (`--serve`: one project folder per line in, one JSON answer per line out) keeps Dagster and the
 * block library imported between checks, so that a check costs the shard's load and not Python's
 * start; it is started again when it dies. A check the warm process does not answer is run once
 * more in a process of its own, whose verdict stands.
 */
export class ShardChecker {
  private readonly python: string;
  private readonly timeoutMs: number;
  private readonly env: NodeJS.ProcessEnv;
  private warm: { child: ChildProcessWithoutNullStreams; waiting: Pending | null; stderr: string[] } | null = null;
  /** Warm processes that died in a row without answering; past a few, checks run one-shot only. */
  private deaths = 0;
  private queue: Promise<unknown> = Promise.resolve();
  private closed = false;

  constructor(python: string, opts: { timeoutMs?: number; env?: NodeJS.ProcessEnv; serve?: boolean } = {}) {
    this.python = python;
    this.timeoutMs = opts.timeoutMs ?? 180_000;
    // Bytecode caches would land in the staged copy and go live with it.
    this.env = { ...(opts.env ?? process.env), ...TELEMETRY_OFF, PYTHONDONTWRITEBYTECODE: '1', PYTHONUNBUFFERED: '1' };
    if (opts.serve === false) this.deaths = Infinity;
  }

  /** Checks one project folder; checks run one at a time. */
  check(projectDir: string): Promise<ShardCheck> {
    const next = this.queue.then(() => this.checkNow(projectDir));
    this.queue = next.catch(() => undefined);
    return next;
  }

  /** The warm process's pid, while one runs. */
  get warmPid(): number | null {
    return this.warm?.child.pid ?? null;
  }

  close(): void {
    this.closed = true;
    this.warm?.child.kill('SIGKILL');
    this.warm = null;
  }

  private async checkNow(projectDir: string): Promise<ShardCheck> {
    if (this.deaths < 3 && !this.closed) {
      const answer = await this.askWarm(projectDir);
      if (answer) {
        this.deaths = 0;
        return answer;
      }
      this.deaths++;
    }
    return this.oneShot(projectDir);
  }

  /** The warm process's answer; null when it died or stopped answering (it is killed then, and started anew next time). */
  private askWarm(projectDir: string): Promise<ShardCheck | null> {
    const warm = this.warm ?? this.startWarm();
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        warm.child.kill('SIGKILL');
        finish(null);
      }, this.timeoutMs);
      const finish = (answer: ShardCheck | null) => {
        clearTimeout(timer);
        warm.waiting = null;
        resolve(answer);
      };
      warm.waiting = { resolve: finish };
      warm.child.stdin.write(`${projectDir}\n`, (error) => {
        if (error) finish(null);
      });
    });
  }

  private startWarm(): NonNullable<ShardChecker['warm']> {
    const child = spawn(this.python, ['-m', MODULE, '--serve'], { env: this.env, stdio: ['pipe', 'pipe', 'pipe'] });
    const warm = { child, waiting: null as Pending | null, stderr: [] as string[] };
    this.warm = warm;
    // It must not keep the service's process alive, nor outlive it: it exits when its stdin closes.
    child.unref();
    for (const stream of [child.stdin, child.stdout, child.stderr] as unknown as Array<{ unref?: () => void }>) stream.unref?.();
    child.stdin.on('error', () => undefined);
    child.stderr.on('data', (chunk) => keepTail(warm.stderr, String(chunk)));
    createInterface({ input: child.stdout }).on('line', (line) => {
      const answer = parseAnswer(line);
      if (answer && warm.waiting) warm.waiting.resolve(answer);
    });
    const gone = () => {
      if (this.warm === warm) this.warm = null;
      warm.waiting?.resolve(null);
    };
    child.on('close', gone);
    child.on('error', gone);
    return warm;
  }

  private oneShot(projectDir: string): Promise<ShardCheck> {
    return new Promise((resolve) => {
      const child = spawn(this.python, ['-m', MODULE, projectDir], { env: this.env, stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      const stderr: string[] = [];
      const timer = setTimeout(() => child.kill('SIGKILL'), this.timeoutMs);
      child.stdout.on('data', (chunk) => (stdout += chunk));
      child.stderr.on('data', (chunk) => keepTail(stderr, String(chunk)));
      child.on('error', (error) => {
        clearTimeout(timer);
        resolve({ ok: false, error: `The load check could not start ${this.python}: ${error.message}`, unready: true });
      });
      child.on('close', (code, signal) => {
        clearTimeout(timer);
        const answer = stdout.split('\n').map(parseAnswer).filter((a) => a !== null).pop();
        if (answer) resolve(answer);
        else {
          const why = signal === 'SIGKILL' ? `did not answer within ${Math.round(this.timeoutMs / 1000)} s` : `stopped (exit ${code ?? signal}) without an answer`;
          const said = stderr.join('').trim();
          resolve({ ok: false, error: `The load check ${why}: ${said.split('\n').slice(-5).join('\n')}`.trim(), ...(UNREADY.test(said) ? { unready: true as const } : {}) });
        }
      });
    });
  }
}

/** One ShardChecker per Python executable: environments that share one share its warm process. */
export class ShardCheckers {
  private readonly byPython = new Map<string, ShardChecker>();
  private readonly opts: ConstructorParameters<typeof ShardChecker>[1];

  constructor(opts: ConstructorParameters<typeof ShardChecker>[1] = {}) {
    this.opts = opts;
  }

  for(python: string): ShardChecker {
    let checker = this.byPython.get(python);
    if (!checker) this.byPython.set(python, (checker = new ShardChecker(python, this.opts)));
    return checker;
  }

  close(): void {
    for (const checker of this.byPython.values()) checker.close();
    this.byPython.clear();
  }
}

function parseAnswer(line: string): ShardCheck | null {
  try {
    const value = JSON.parse(line);
    if (value?.ok === true && value.definitions) return { ok: true, definitions: value.definitions };
    if (value?.ok === false) return { ok: false, error: String(value.error ?? 'the shard did not load') };
  } catch {
    // not an answer
  }
  return null;
}

function keepTail(lines: string[], chunk: string): void {
  lines.push(chunk);
  while (lines.length > 50) lines.shift();
}
