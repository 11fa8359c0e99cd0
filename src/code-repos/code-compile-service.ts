import type { Principal } from '../auth/principal.ts';
import { requireRole } from '../auth/roles.ts';
import { blockTypeRef, parseBlockTypeRef } from '../catalog/block-type.ts';
import type { CatalogRepo } from '../catalog/catalog-repo.ts';
import { applyConfigDefaults } from '../catalog/config-validator.ts';
import { manifestSchema, type BlockTypeManifest } from '../catalog/manifest-schema.ts';
import { AppError } from '../errors.ts';
import type { Logger } from '../logger.ts';
import { checkBranch } from './check-branch.ts';
import { checkInPython, type PythonCheckBlock } from './check-python.ts';
import { checkRepoUrl, type CheckedRepoUrl } from './check-repo-url.ts';
import { fetchRepo, type CloneOptions } from './clone-repo.ts';
import type { CodeRepoStore, CompileError, CompileRow } from './code-repo-store.ts';
import { namespaceCandidates, packageName } from './namespace.ts';
import { nextVersion } from './next-versions.ts';
import { readLayout, type RepoLayout } from './read-layout.ts';
import type { RepoPolicy } from './repo-policy.ts';
import { parseRepoManifest, type RepoManifest } from './repo-manifest.ts';
import { NODE_RUNTIME, requireLocalRuntime, type Runtime } from '../runtime.ts';

export interface CodeCompileOptions {
  store: CodeRepoStore;
  catalog: CatalogRepo;
  policy: RepoPolicy;
  /** The Python that runs pipelines (the default environment's): blocks are checked where they will run. */
  python: string;
  /** The check's environment (tests add PYTHONPATH); the service's own by default. */
  pythonEnv?: NodeJS.ProcessEnv;
  /** Wall-clock limit of the Python check (docs: 60 s). */
  checkTimeoutMs?: number;
  clone?: CloneOptions;
  logger: Logger;
  /** Where this runs: cloning and the Python check need the Node server (default: it). */
  runtime?: Runtime;
}

/** The Python check's wall-clock limit (docs/code-repositories.md: 60 s per repository). */
const CHECK_TIMEOUT_MS = 60_000;

/** What POST /dagster/compile/ answers, exactly as the seed writes it. */
export interface CompileStarted {
  compile_id: string;
  message: 'Code compilation initiated.';
  status: 'in_progress';
}

/**
 * Compiling code repositories into block types (docs/code-repositories.md), the one place its
 * rules live for REST, tools and chat. `start` checks the URL and branch at once and answers; the
 * work (clone, read, check manifests, check in Python, register) runs in the background, tracked
 * so that shutdown and tests can wait for it, and ends in a stored outcome `get` reads.
 */
export class CodeCompileService {
  private readonly opts: CodeCompileOptions;
  private readonly running = new Map<string, Promise<void>>();
  /** Compiles of one repository, one after another: each numbers versions from what the last registered. */
  private readonly perRepo = new Map<string, Promise<unknown>>();

  constructor(opts: CodeCompileOptions) {
    this.opts = opts;
  }

  async start(principal: Principal, input: { repo_url: unknown; branch: unknown }): Promise<CompileStarted> {
    requireRole(principal, 'edit', 'Compiling a code repository');
    requireLocalRuntime(this.opts.runtime ?? NODE_RUNTIME, 'Compiling a code repository');
    const url = await checkRepoUrl(input.repo_url, this.opts.policy, this.opts.clone?.lookup);
    const branch = await checkBranch(input.branch);
    const row = await this.opts.store.insertCompile({ orgId: principal.orgId, userId: principal.userId, repoUrl: url.href, branch });
    // run() stores every outcome itself; only failing to store one (the store gone) lands here.
    const work = this.serialized(`${principal.orgId} ${url.href}`, () => this.run(principal, row, url, branch)).catch((error: unknown) => {
      this.opts.logger.error({ err: error, compile_id: row.id }, 'code compile could not record its outcome');
    });
    this.running.set(row.id, work);
    void work.finally(() => this.running.delete(row.id));
    return { compile_id: row.id, message: 'Code compilation initiated.', status: 'in_progress' };
  }

  /** A compile's outcome (or that it is still running); 404 for one of another org. */
  async get(principal: Principal, id: string): Promise<CompileRow> {
    requireRole(principal, 'read', 'Reading a code compile');
    const row = /^[0-9a-f-]{36}$/i.test(id) ? await this.opts.store.compile(principal.orgId, id) : null;
    if (!row) {
      throw new AppError('not_found:code_compile', `No code compile with id "${id}" exists here.`, { hint: 'Use the compile_id that POST /dagster/compile/ (or compile_code_repository) answered.' });
    }
    // Work is in memory: a compile still in progress long past every time limit lost its process.
    const limitMs = this.opts.policy.timeoutMs + (this.opts.checkTimeoutMs ?? CHECK_TIMEOUT_MS) + 300_000;
    if (row.status === 'in_progress' && !this.running.has(row.id) && Date.now() - row.created_at.getTime() > limitMs) {
      const lost = { status: 'failed' as const, commit: row.commit, registered: [], errors: [{ message: 'The compile was interrupted (the service restarted while it ran); nothing was registered.', hint: 'Compile the repository again.' }] };
      await this.opts.store.finishCompile(row.id, lost);
      return { ...row, ...lost, finished_at: new Date() };
    }
    return row;
  }

  /** The outcome once the compile has finished, or as it is after `timeoutMs`. */
  async wait(principal: Principal, id: string, timeoutMs: number, signal?: AbortSignal): Promise<CompileRow> {
    const work = this.running.get(id);
    if (work) {
      let timer: NodeJS.Timeout | undefined;
      const aborted = new Promise<void>((resolve) => signal?.addEventListener('abort', () => resolve(), { once: true }));
      await Promise.race([work, new Promise<void>((resolve) => (timer = setTimeout(resolve, timeoutMs))), aborted]);
      clearTimeout(timer);
    }
    return this.get(principal, id);
  }

  /** Resolves once every compile started here has finished (shutdown, tests). */
  async idle(): Promise<void> {
    while (this.running.size) await Promise.allSettled([...this.running.values()]);
  }

  /** The org's repositories, each with every version of its block types. */
  async list(principal: Principal) {
    requireRole(principal, 'read', 'Listing code repositories');
    const repos = await this.opts.store.repos(principal.orgId);
    return Promise.all(
      repos.map(async (repo) => {
        const rows = await this.opts.store.blockTypesOf(principal.orgId, repo.namespace);
        const slugs = [...new Set(rows.map((r) => r.slug))];
        return {
          repo_url: repo.repo_url,
          namespace: repo.namespace,
          created_at: repo.created_at,
          block_types: slugs.map((slug) => ({
            slug,
            versions: rows.filter((r) => r.slug === slug).map((r) => ({ ref: blockTypeRef(r.slug, r.version), version: r.version, commit: r.commit, latest: r.is_latest, retired: r.retired_at !== null })),
          })),
        };
      }),
    );
  }

  /**
   * Retires one version of a block type the org registered: search and "latest" skip it, a new
   * pipeline version may not take it up, and pipelines that pin it keep deploying until edited.
   */
  async retire(principal: Principal, ref: string): Promise<{ ref: string; retired: true; latest: string | null }> {
    requireRole(principal, 'edit', 'Retiring a block type');
    const parsed = parseBlockTypeRef(ref);
    if (!parsed || parsed.version === undefined) {
      throw new AppError('invalid:block_type_ref', `"${ref}" does not name one version of a block type.`, { hint: 'Give "slug@version", e.g. "etl_blocks__greeting_rows@1".' });
    }
    if (!(await this.opts.catalog.retire(principal.orgId, parsed.slug, parsed.version))) {
      const mine = (await this.opts.catalog.lookup(principal.orgId, [parsed.slug])).filter((t) => !t.builtin);
      throw new AppError('not_found:block_type', `Your org has no block type "${ref}" to retire.`, {
        hint: mine.length ? `"${parsed.slug}" has versions ${mine.map((t) => t.version).join(', ')}.` : 'Only block types your org compiled from a code repository can be retired (GET /v1/code-repos lists them).',
      });
    }
    const latest = await this.opts.catalog.get(principal.orgId, parsed.slug);
    return { ref: blockTypeRef(parsed.slug, parsed.version), retired: true, latest: latest?.ref ?? null };
  }

  private serialized<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const next = (this.perRepo.get(key) ?? Promise.resolve()).then(fn, fn);
    const settled = next.catch(() => undefined);
    this.perRepo.set(key, settled);
    void settled.then(() => this.perRepo.get(key) === settled && this.perRepo.delete(key));
    return next;
  }

  /** The background part; every way it can end is a stored outcome. */
  private async run(principal: Principal, row: CompileRow, url: CheckedRepoUrl, branch: string): Promise<void> {
    let commit: string | null = null;
    try {
      const cloned = await fetchRepo(url, branch, this.opts.policy, this.opts.clone);
      commit = cloned.commit;
      let layout: RepoLayout;
      try {
        layout = await readLayout(cloned.dir);
      } finally {
        await cloned.remove();
      }
      const outcome = await this.compileLayout(principal, row, url.href, branch, cloned.commit, layout);
      await this.opts.store.finishCompile(row.id, { ...outcome, commit });
    } catch (error) {
      const known = error instanceof AppError;
      if (!known) this.opts.logger.error({ err: error, compile_id: row.id }, 'code compile failed unexpectedly');
      const field = known ? error.issues[0]?.path : undefined;
      const failure: CompileError = known
        ? { ...(field ? { path: field } : {}), message: error.message, ...(error.hint ? { hint: error.hint } : {}) }
        : { message: 'The compile stopped on an internal error.', hint: 'Try again; if it keeps happening, tell the operator (the service log has the details).' };
      await this.opts.store.finishCompile(row.id, { status: 'failed', commit, registered: [], errors: [failure] });
    }
  }

  private async compileLayout(principal: Principal, row: CompileRow, repoUrl: string, branch: string, commit: string, layout: RepoLayout) {
    const failed = (errors: CompileError[]) => ({ status: 'failed' as const, registered: [], errors });
    if (layout.errors.length) return failed(layout.errors);
    if (layout.manifests.length === 0) {
      return failed([{ file: 'blocks/', message: 'The repository has no block manifests (blocks/<name>.json).', hint: 'See docs/code-repositories.md for the layout.' }]);
    }
    const repo = await this.opts.store.claimRepo(principal.orgId, repoUrl, namespaceCandidates(repoUrl, principal.orgId));
    const pkg = packageName(repo.namespace, commit);
    const requirements = layout.requirements.map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
    const errors: CompileError[] = [];
    const parsed: RepoManifest[] = [];
    for (const { file, text } of layout.manifests) {
      const result = parseRepoManifest(file, text, repo.namespace);
      if ('errors' in result) errors.push(...result.errors);
      else parsed.push(result.manifest);
    }
    const origin = { repo_url: repoUrl, branch, commit, package: pkg, requirements, compile_id: row.id };
    const existing = await this.opts.catalog.lookup(principal.orgId, parsed.map((m) => `${repo.namespace}__${m.slug}`));
    const content = { files: layout.files, requirements };
    const candidates: Array<{ manifest: BlockTypeManifest; repoManifest: RepoManifest; changed: boolean }> = [];
    for (const m of parsed) {
      const manifest = manifestSchema.parse({ ...m, slug: `${repo.namespace}__${m.slug}`, version: 1, python: { callable: `${pkg}.${m.python.callable}` }, origin });
      const { version, changed } = await nextVersion(manifest, content, existing, (p) => this.opts.store.packageContent(p));
      candidates.push({ manifest: { ...manifest, version }, repoManifest: m, changed });
    }
    if (candidates.length === 0) return failed(errors);

    const check = await checkInPython(
      { package: pkg, files: layout.files, requirements, blocks: candidates.map(({ manifest, repoManifest }) => pythonBlock(manifest, repoManifest)) },
      { python: this.opts.python, timeoutMs: this.opts.checkTimeoutMs ?? CHECK_TIMEOUT_MS, memoryMb: 1024, ...(this.opts.pythonEnv ? { env: this.opts.pythonEnv } : {}) },
    );
    if (!check.ok) return failed([...errors, { message: `The Python check of the repository failed: ${check.error}`, hint: 'Make the modules import quickly and without side effects (docs/code-repositories.md, "The Python contract").' }]);
    const unmet = check.answer.requirements.filter((r) => !r.ok);
    for (const r of unmet) errors.push({ file: 'requirements.txt', message: `requirements.txt: "${r.line}" is not satisfied: ${r.error ?? 'not installed'}`, hint: 'The service installs nothing: ask the operator to install it where pipelines run, or remove the line.' });
    const good = candidates.filter(({ repoManifest }) => {
      const verdict = check.answer.blocks.find((b) => b.name === repoManifest.slug);
      if (verdict?.ok) return true;
      errors.push({ file: `blocks/${repoManifest.slug}.json`, block: repoManifest.slug, message: `${repoManifest.slug}: ${verdict?.error ?? 'the Python check gave no verdict for this block'}` });
      return false;
    });
    // Unmet requirements would break every block of the package where it runs.
    if (unmet.length || good.length === 0) return failed(errors);

    const fresh = good.filter((c) => c.changed).map((c) => c.manifest);
    if (fresh.length) {
      await this.opts.store.savePackage({ package: pkg, orgId: principal.orgId, repoId: repo.id, commit, files: layout.files, requirements });
      // Never rewrites a version: the numbering is serialized here, not between instances.
      await this.opts.catalog.upsert(fresh, principal.orgId, { onlyNew: true });
    }
    return { status: 'completed' as const, registered: fresh.map((m) => blockTypeRef(m.slug, m.version)), errors };
  }
}

/** One block of the Python check's request: ports and an example config with its defaults filled in. */
function pythonBlock(manifest: BlockTypeManifest, repoManifest: RepoManifest): PythonCheckBlock {
  const examples = (manifest.config_schema as { examples?: unknown[] }).examples;
  const example = examples?.[0] && typeof examples[0] === 'object' ? structuredClone(examples[0] as Record<string, unknown>) : {};
  return {
    name: repoManifest.slug,
    type: blockTypeRef(manifest.slug, manifest.version),
    callable: repoManifest.python.callable,
    inputs: manifest.inputs.map((p) => ({ name: p.name, type: p.type, multiple: p.multiple })),
    outputs: manifest.outputs.map((p) => ({ name: p.name, type: p.type })),
    config: applyConfigDefaults(manifest.config_schema, example),
  };
}

/** A compile as REST and tools show it (the same fields on both). */
export function compileOutcome(row: CompileRow) {
  return {
    compile_id: row.id,
    status: row.status,
    repo_url: row.repo_url,
    branch: row.branch,
    commit: row.commit,
    registered: row.registered,
    errors: row.errors,
    created_at: row.created_at.toISOString(),
    finished_at: row.finished_at ? row.finished_at.toISOString() : null,
  };
}
