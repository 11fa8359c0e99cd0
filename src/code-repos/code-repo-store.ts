import { randomUUID } from 'node:crypto';
import type { Db } from '../adapters/store/db.ts';

/** One problem a compile found: where (manifest file, JSON path, block), what, and how to fix it. */
export interface CompileError {
  file?: string;
  path?: string;
  block?: string;
  message: string;
  hint?: string;
}

export type CompileStatus = 'in_progress' | 'completed' | 'failed';

export interface CompileRow {
  id: string;
  org_id: string;
  requested_by: string;
  repo_url: string;
  branch: string;
  status: CompileStatus;
  commit: string | null;
  registered: string[];
  errors: CompileError[];
  created_at: Date;
  finished_at: Date | null;
}

export interface RepoRow {
  id: string;
  org_id: string;
  repo_url: string;
  namespace: string;
  created_at: Date;
}

/** One version of a repository's block type, as the listing shows it. */
export interface RepoBlockTypeRow {
  slug: string;
  version: number;
  commit: string | null;
  is_latest: boolean;
  retired_at: Date | null;
}

export interface PackageInput {
  package: string;
  orgId: string;
  repoId: string;
  commit: string;
  /** Path under python/ → file text. */
  files: Record<string, string>;
  requirements: string[];
}

const isUniqueViolation = (error: unknown) => (error as { code?: string }).code === '23505';

/** The rows of code repositories, their compiles and their commits' packages (migration 0009). */
export class CodeRepoStore {
  private readonly db: Db;

  constructor(db: Db) {
    this.db = db;
  }

  /**
   * The files of these packages, keyed by their path relative to a shard's root
   * (`<package>/<path under python/>`), for the code locations of pipelines that use them.
   * Packages unknown to the store are left out; the caller names the ones its manifests carry.
   */
  async packageFiles(packages: string[]): Promise<Record<string, string>> {
    if (packages.length === 0) return {};
    const rows = await this.db.query<{ package: string; files: Record<string, string> }>(
      'SELECT package, files FROM code_packages WHERE package = ANY($1::text[]) ORDER BY package',
      [[...new Set(packages)]],
    );
    const out: Record<string, string> = {};
    for (const row of rows) {
      for (const [path, text] of Object.entries(row.files)) out[`${row.package}/${path}`] = text;
    }
    return out;
  }

  /** One package's files and requirements, or null when it is not stored. */
  async packageContent(pkg: string): Promise<{ files: Record<string, string>; requirements: string[] } | null> {
    const [row] = await this.db.query<{ files: Record<string, string>; requirements: string[] }>('SELECT files, requirements FROM code_packages WHERE package = $1', [pkg]);
    return row ?? null;
  }

  /** Stores a commit's package once; a second compile of the same commit keeps the first row. */
  async savePackage(input: PackageInput): Promise<void> {
    await this.db.query(
      `INSERT INTO code_packages (package, org_id, repo_id, commit, files, requirements) VALUES ($1, $2, $3, $4, $5::jsonb, $6::text[])
       ON CONFLICT (package) DO NOTHING`,
      [input.package, input.orgId, input.repoId, input.commit, JSON.stringify(input.files), input.requirements],
    );
  }

  async repo(orgId: string, repoUrl: string): Promise<RepoRow | null> {
    const [row] = await this.db.query<RepoRow>('SELECT * FROM code_repos WHERE org_id = $1 AND repo_url = $2', [orgId, repoUrl]);
    return row ?? null;
  }

  /**
   * The org's row for this repository, made with the first free namespace of `candidates` when it
   * has none. A namespace is fixed from then on (its block types' slugs carry it).
   */
  async claimRepo(orgId: string, repoUrl: string, candidates: string[]): Promise<RepoRow> {
    const existing = await this.repo(orgId, repoUrl);
    if (existing) return existing;
    for (const namespace of candidates) {
      try {
        const [row] = await this.db.query<RepoRow>(
          'INSERT INTO code_repos (id, org_id, repo_url, namespace) VALUES ($1, $2, $3, $4) RETURNING *',
          [randomUUID(), orgId, repoUrl, namespace],
        );
        return row!;
      } catch (error) {
        if (!isUniqueViolation(error)) throw error;
        // Either the namespace is taken (try the next) or this repository was claimed meanwhile.
        const raced = await this.repo(orgId, repoUrl);
        if (raced) return raced;
      }
    }
    throw new Error(`No free namespace among ${candidates.join(', ')}`);
  }

  async repos(orgId: string): Promise<RepoRow[]> {
    return this.db.query<RepoRow>('SELECT * FROM code_repos WHERE org_id = $1 ORDER BY namespace', [orgId]);
  }

  /** Every version of the block types under `namespace`, owned by the org. */
  async blockTypesOf(orgId: string, namespace: string): Promise<RepoBlockTypeRow[]> {
    return this.db.query<RepoBlockTypeRow>(
      `SELECT t.slug, t.version, m.manifest->'origin'->>'commit' AS commit, t.is_latest, t.retired_at
       FROM block_types t JOIN block_type_manifests m USING (slug, version)
       WHERE t.org_id = $1 AND starts_with(t.slug, $2) ORDER BY t.slug, t.version`,
      [orgId, `${namespace}__`],
    );
  }

  async insertCompile(input: { orgId: string; userId: string; repoUrl: string; branch: string }): Promise<CompileRow> {
    const [row] = await this.db.query<CompileRow>(
      `INSERT INTO code_compiles (id, org_id, requested_by, repo_url, branch, status) VALUES ($1, $2, $3, $4, $5, 'in_progress') RETURNING *`,
      [randomUUID(), input.orgId, input.userId, input.repoUrl, input.branch],
    );
    return row!;
  }

  async finishCompile(id: string, outcome: { status: Exclude<CompileStatus, 'in_progress'>; commit: string | null; registered: string[]; errors: CompileError[] }): Promise<void> {
    await this.db.query(
      // Only once: an outcome, once written, stays.
      `UPDATE code_compiles SET status = $2, commit = $3, registered = $4::jsonb, errors = $5::jsonb, finished_at = now() WHERE id = $1 AND status = 'in_progress'`,
      [id, outcome.status, outcome.commit, JSON.stringify(outcome.registered), JSON.stringify(outcome.errors)],
    );
  }

  async compile(orgId: string, id: string): Promise<CompileRow | null> {
    const [row] = await this.db.query<CompileRow>('SELECT * FROM code_compiles WHERE id = $1 AND org_id = $2', [id, orgId]);
    return row ?? null;
  }
}
