import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, relative } from 'node:path';
import { TELEMETRY_OFF } from '../adapters/dagster/telemetry-off.ts';
import { AppError } from '../errors.ts';
import type { ShardMember } from './shard-files.ts';

/** The block types whose component reads a parsed dbt manifest (constellation_blocks.dbt_project). */
export const DBT_BLOCK_TYPES: ReadonlySet<string> = new Set(['dbt_run@1', 'dbt_test@1']);

/** Where a dbt block's manifest sits in its pipeline's component folder, beside pipeline.json. */
export const manifestPath = (blockId: string) => `dbt/${blockId}/manifest.json`;

/** What of a dbt block's config decides its manifest. */
interface ParseRequest {
  blockId: string;
  projectDir: string;
  profilesDir: string | null;
  target: string | null;
  vars: unknown;
}

// Folders dbt writes into or tools keep beside a project: not part of what dbt parses.
const SKIPPED = new Set(['target', 'logs', 'node_modules', '__pycache__']);

/**
 * The deploy's parse of the dbt projects a pipeline names. Compile stays pure and never reads a
 * project; before a shard is staged and checked, each dbt block's project is parsed where the
 * pipeline runs (`python -m constellation_blocks.dbt_parse`, the environment's Python, in a
 * subprocess with a timeout) and its manifest joins the component's files. Manifests are cached
 * on disk by what decides them — the project's files, its profiles.yml, the target, the vars and
 * the Python — so a hundred pipelines on one project parse it once, and a changed model parses
 * again. Environment variables that profiles.yml reads are not part of the key: parse needs none
 * of the warehouse's secrets when each env_var() has a default.
 */
export class DbtManifests {
  private readonly cacheDir: string;
  private readonly timeoutMs: number;
  private readonly env: NodeJS.ProcessEnv;
  private readonly parsing = new Map<string, Promise<string>>();

  constructor(opts: { cacheDir: string; timeoutMs?: number; env?: NodeJS.ProcessEnv }) {
    this.cacheDir = opts.cacheDir;
    this.timeoutMs = opts.timeoutMs ?? 180_000;
    this.env = { ...(opts.env ?? process.env), ...TELEMETRY_OFF, PYTHONDONTWRITEBYTECODE: '1' };
  }

  /** `member` with a manifest beside pipeline.json for each of its dbt blocks; `member` itself when it has none. */
  async withManifests<T extends ShardMember>(member: T, python: string): Promise<T> {
    const requests = dbtBlocks(member.files['pipeline.json']);
    if (requests.length === 0) return member;
    const files = { ...member.files };
    for (const request of requests) files[manifestPath(request.blockId)] = await this.manifest(request, python);
    return { ...member, files };
  }

  /** The manifest text for `request`, from the cache or parsed now (one parse per key at a time). */
  private async manifest(request: ParseRequest, python: string): Promise<string> {
    const key = cacheKey(request, python);
    const cached = join(this.cacheDir, `${key}.json`);
    if (existsSync(cached)) return readFileSync(cached, 'utf8');
    let parse = this.parsing.get(key);
    if (!parse) {
      parse = this.parse(request, python, cached).finally(() => this.parsing.delete(key));
      this.parsing.set(key, parse);
    }
    return parse;
  }

  private async parse(request: ParseRequest, python: string, cached: string): Promise<string> {
    mkdirSync(this.cacheDir, { recursive: true });
    // Written aside and renamed, so that a reader never sees half a manifest.
    const partial = `${cached}.${process.pid}.${Math.random().toString(36).slice(2)}.partial`;
    const args = ['-m', 'constellation_blocks.dbt_parse', request.projectDir, partial];
    if (request.profilesDir) args.push('--profiles-dir', request.profilesDir);
    if (request.target) args.push('--target', request.target);
    if (request.vars && Object.keys(request.vars).length > 0) args.push('--vars', JSON.stringify(request.vars));
    const answer = await run(python, args, this.env, this.timeoutMs);
    if (!answer.ok) {
      rmSync(partial, { force: true });
      throw new AppError('invalid:dbt_project', `blocks.${request.blockId}.config.project_dir: dbt could not parse ${request.projectDir}: ${answer.error}`, {
        hint: `Fix the dbt project (dbt parse must succeed there, on the machine where the pipeline runs) or point blocks.${request.blockId}.config.project_dir at one, then deploy again.`,
      });
    }
    renameSync(partial, cached);
    return readFileSync(cached, 'utf8');
  }
}

/** The dbt blocks of a pipeline.json, with what of their config decides the manifest. */
function dbtBlocks(pipelineJson: string | undefined): ParseRequest[] {
  if (!pipelineJson) return [];
  const blocks = (JSON.parse(pipelineJson) as { blocks?: Record<string, { type: string; config?: Record<string, unknown> }> }).blocks ?? {};
  return Object.entries(blocks)
    .filter(([, block]) => DBT_BLOCK_TYPES.has(block.type))
    .map(([blockId, { config = {} }]) => ({
      blockId,
      projectDir: String(config.project_dir ?? ''),
      profilesDir: typeof config.profiles_dir === 'string' ? config.profiles_dir : null,
      target: typeof config.target === 'string' ? config.target : null,
      vars: config.vars ?? {},
    }));
}

/** sha256 of the project's files, the profiles.yml it reads, the target, the vars and the Python that parses. */
function cacheKey(request: ParseRequest, python: string): string {
  const hash = createHash('sha256');
  hash.update(JSON.stringify([python, request.target, request.vars, request.projectDir])).update('\0');
  for (const file of projectFiles(request.projectDir)) hash.update(relative(request.projectDir, file)).update('\0').update(readFileSync(file)).update('\0');
  const profiles = [request.profilesDir, request.projectDir, join(homedir(), '.dbt')].flatMap((dir) => (dir ? [join(dir, 'profiles.yml')] : [])).find(existsSync);
  hash.update(profiles ? readFileSync(profiles) : 'no profiles.yml');
  return hash.digest('hex');
}

/** The project's files, sorted, leaving out what dbt writes (target/, logs/) and hidden folders; none when it is no folder (parse says why). */
function projectFiles(dir: string): string[] {
  if (!dir.startsWith('/') || !existsSync(dir) || !statSync(dir).isDirectory()) return [];
  const files: string[] = [];
  const walk = (at: string) => {
    for (const entry of readdirSync(at, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
      const path = join(at, entry.name);
      if (entry.isDirectory()) {
        if (!entry.name.startsWith('.') && !SKIPPED.has(entry.name)) walk(path);
      } else if (entry.isFile()) files.push(path);
    }
  };
  walk(dir);
  return files;
}

type Answer = { ok: true } | { ok: false; error: string };

/** Runs the parse and reads its one-line JSON answer; a parse that does not finish in time is killed. */
function run(python: string, args: string[], env: NodeJS.ProcessEnv, timeoutMs: number): Promise<Answer> {
  return new Promise((resolve) => {
    const child = spawn(python, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr = (stderr + chunk).slice(-4000)));
    child.on('error', (error) => {
      clearTimeout(timer);
      resolve({ ok: false, error: `could not start ${python}: ${error.message}` });
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const last = stdout.trim().split('\n').pop() ?? '';
      try {
        const answer = JSON.parse(last) as Answer;
        if (typeof answer.ok === 'boolean') return resolve(answer);
      } catch {
        // not an answer: say how it ended
      }
      const how = signal === 'SIGKILL' ? `did not finish within ${Math.round(timeoutMs / 1000)} s` : `stopped (exit ${code ?? signal}) without an answer`;
      resolve({ ok: false, error: `the parse ${how}: ${stderr.trim().split('\n').slice(-3).join(' ')}`.trim() });
    });
  });
}
