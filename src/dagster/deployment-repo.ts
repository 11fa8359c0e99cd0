import { randomUUID } from 'node:crypto';
import type { Db } from '../adapters/store/db.ts';
import type { Principal } from '../auth/principal.ts';

export type DeploymentStatus = 'pending' | 'in_progress' | 'deployed' | 'written' | 'failed';

export interface DeploymentRow {
  id: string;
  org_id: string;
  pipeline_id: string;
  version: number;
  environment: string;
  status: DeploymentStatus;
  location_name: string;
  content_hash: string | null;
  message: string | null;
  error: string | null;
  requested_by: string;
  request_id: string | null;
  lease_owner: string | null;
  lease_expires_at: Date | null;
  attempts: number;
  created_at: Date;
  updated_at: Date;
  finished_at: Date | null;
}

/** `d` is the newest deployment of its pipeline to its environment that did not fail. */
const NEWEST_STANDING = `NOT EXISTS (
  SELECT 1 FROM deployments n
  WHERE n.pipeline_id = d.pipeline_id AND n.environment = d.environment AND n.id <> d.id
    AND n.status <> 'failed' AND (n.created_at, n.id) > (d.created_at, d.id))`;

/** Deployment records and their leases. All lease arithmetic uses the database's clock. */
export class DeploymentRepo {
  private readonly db: Db;

  constructor(db: Db) {
    this.db = db;
  }

  /** The same repository over another handle: the transaction a workspace lock is held in. */
  with(db: Db): DeploymentRepo {
    return new DeploymentRepo(db);
  }

  /** The status of each of these deployments that exists. */
  async statuses(ids: string[]): Promise<Map<string, DeploymentStatus>> {
    if (ids.length === 0) return new Map();
    const rows = await this.db.query<{ id: string; status: DeploymentStatus }>(`SELECT id, status FROM deployments WHERE id = ANY($1::uuid[])`, [ids]);
    return new Map(rows.map(({ id, status }) => [id, status]));
  }

  async create(principal: Principal, d: { pipelineId: string; version: number; environment: string; locationName: string; requestId?: string }): Promise<DeploymentRow> {
    const [row] = await this.db.query<DeploymentRow>(
      `INSERT INTO deployments (id, org_id, pipeline_id, version, environment, status, location_name, requested_by, request_id)
       VALUES ($1, $2, $3, $4, $5, 'pending', $6, $7, $8) RETURNING *`,
      [randomUUID(), principal.orgId, d.pipelineId, d.version, d.environment, d.locationName, principal.userId, d.requestId ?? null],
    );
    return row!;
  }

  /**
   * Takes the lease on the next deployment that is due: pending, or in progress under a lease that
   * expired. Only the oldest open deployment of each pipeline and environment is due, so deploys
   * of one pipeline run one after another; SKIP LOCKED lets workers claim different ones at once.
   * Deployments whose workers died `maxAttempts` times are failed instead of resumed.
   */
  async claimNext(owner: string, leaseSeconds: number, maxAttempts: number): Promise<DeploymentRow | null> {
    await this.db.query(
      `UPDATE deployments SET status = 'failed', finished_at = now(), updated_at = now(), lease_owner = NULL,
         error = 'The deployment stopped ' || attempts || ' times without finishing (its worker died each time); deploy again to retry.'
       WHERE status = 'in_progress' AND lease_expires_at < now() AND attempts >= $1`,
      [maxAttempts],
    );
    const rows = await this.db.query<DeploymentRow>(
      `UPDATE deployments d SET status = 'in_progress', lease_owner = $1, lease_expires_at = now() + make_interval(secs => $2),
         attempts = d.attempts + 1, updated_at = now()
       WHERE d.id = (
         SELECT c.id FROM deployments c
         WHERE c.status IN ('pending', 'in_progress') AND (c.lease_expires_at IS NULL OR c.lease_expires_at < now())
           AND NOT EXISTS (
             SELECT 1 FROM deployments o
             WHERE o.pipeline_id = c.pipeline_id AND o.environment = c.environment AND o.id <> c.id
               AND o.status IN ('pending', 'in_progress') AND (o.created_at, o.id) < (c.created_at, c.id))
         ORDER BY c.created_at, c.id LIMIT 1 FOR UPDATE SKIP LOCKED)
       RETURNING *`,
      [owner, leaseSeconds],
    );
    return rows[0] ?? null;
  }

  /** Extends the lease; false when this owner no longer holds it (it expired and was taken). */
  async renew(id: string, owner: string, leaseSeconds: number): Promise<boolean> {
    const rows = await this.db.query(
      `UPDATE deployments SET lease_expires_at = now() + make_interval(secs => $3), updated_at = now()
       WHERE id = $1 AND lease_owner = $2 AND status = 'in_progress' RETURNING id`,
      [id, owner, leaseSeconds],
    );
    return rows.length > 0;
  }

  /**
   * Records the outcome, if this owner still holds the lease, with the code location the worker
   * placed the pipeline in (the request recorded where it would go).
   */
  async finish(id: string, owner: string, outcome: { status: 'deployed' | 'written' | 'failed'; message: string; error?: string; contentHash?: string; locationName?: string }): Promise<boolean> {
    const rows = await this.db.query(
      `UPDATE deployments SET status = $3, message = $4, error = $5, content_hash = coalesce($6, content_hash),
         location_name = coalesce($7, location_name), lease_owner = NULL, lease_expires_at = NULL, finished_at = now(), updated_at = now()
       WHERE id = $1 AND lease_owner = $2 AND status = 'in_progress' RETURNING id`,
      [id, owner, outcome.status, outcome.message, outcome.error ?? null, outcome.contentHash ?? null, outcome.locationName ?? null],
    );
    return rows.length > 0;
  }

  async get(principal: Principal, id: string): Promise<DeploymentRow | null> {
    const rows = await this.db.query<DeploymentRow>(`SELECT * FROM deployments WHERE id = $1 AND org_id = $2`, [id, principal.orgId]);
    return rows[0] ?? null;
  }

  async list(principal: Principal, pipelineId: string): Promise<DeploymentRow[]> {
    return this.db.query<DeploymentRow>(
      `SELECT * FROM deployments WHERE pipeline_id = $1 AND org_id = $2 ORDER BY created_at DESC, id`,
      [pipelineId, principal.orgId],
    );
  }

  // The queries by pipeline below take the org too: their callers have checked that the pipeline
  // is the caller's org's, and the org in every WHERE keeps a slip there from reaching another's rows.

  /** The newest deployment of the pipeline (in one environment, or any). */
  async latest(orgId: string, pipelineId: string, environment?: string): Promise<DeploymentRow | null> {
    const rows = await this.db.query<DeploymentRow>(
      `SELECT * FROM deployments WHERE pipeline_id = $1 AND org_id = $3 AND ($2::text IS NULL OR environment = $2) ORDER BY created_at DESC, id LIMIT 1`,
      [pipelineId, environment ?? null, orgId],
    );
    return rows[0] ?? null;
  }

  /** The newest deployment of each of these pipelines, in one query (pipelines never deployed are absent). */
  async latestOf(orgId: string, pipelineIds: string[]): Promise<Map<string, DeploymentRow>> {
    if (pipelineIds.length === 0) return new Map();
    const rows = await this.db.query<DeploymentRow>(
      `SELECT DISTINCT ON (pipeline_id) * FROM deployments WHERE pipeline_id = ANY($1::uuid[]) AND org_id = $2
       ORDER BY pipeline_id, created_at DESC, id`,
      [pipelineIds, orgId],
    );
    return new Map(rows.map((r) => [r.pipeline_id, r]));
  }

  /** The newest deployment that is live in Dagster for the pipeline in an environment. */
  async live(orgId: string, pipelineId: string, environment: string): Promise<DeploymentRow | null> {
    const rows = await this.db.query<DeploymentRow>(
      `SELECT * FROM deployments WHERE pipeline_id = $1 AND environment = $2 AND org_id = $3 AND status = 'deployed'
       ORDER BY finished_at DESC, id LIMIT 1`,
      [pipelineId, environment, orgId],
    );
    return rows[0] ?? null;
  }

  /**
   * The newest deployment whose files are in the environment's workspace: loaded by Dagster
   * (deployed) or written where no Dagster was asked (written). What a preview diffs against.
   */
  async inPlace(orgId: string, pipelineId: string, environment: string): Promise<DeploymentRow | null> {
    const rows = await this.db.query<DeploymentRow>(
      `SELECT * FROM deployments WHERE pipeline_id = $1 AND environment = $2 AND org_id = $3 AND status IN ('deployed', 'written')
       ORDER BY finished_at DESC, id LIMIT 1`,
      [pipelineId, environment, orgId],
    );
    return rows[0] ?? null;
  }

  /**
   * Written deployments that may have become live since: in the given environments, each the
   * newest deployment of its pipeline there that did not fail (an older written one's files were
   * replaced). Every org's: the reconciler works for the service, not for a caller.
   */
  async writtenIn(environments: string[]): Promise<DeploymentRow[]> {
    if (environments.length === 0) return [];
    return this.db.query<DeploymentRow>(
      `SELECT * FROM deployments d WHERE d.status = 'written' AND d.environment = ANY($1::text[]) AND ${NEWEST_STANDING}
       ORDER BY d.environment, d.location_name, d.created_at`,
      [environments],
    );
  }

  /**
   * Marks a written deployment deployed, once its Dagster loaded it, if it still is written at
   * that version and no newer deployment of the pipeline to that environment stands (one pending,
   * in progress or done replaces its files): any number of service instances may try at once,
   * and none overwrites a newer deployment. Null when it did not apply.
   */
  async promoteWritten(id: string, version: number, message: string): Promise<DeploymentRow | null> {
    const rows = await this.db.query<DeploymentRow>(
      `UPDATE deployments d SET status = 'deployed', message = $3, error = NULL, updated_at = now()
       WHERE d.id = $1 AND d.version = $2 AND d.status = 'written' AND ${NEWEST_STANDING} RETURNING *`,
      [id, version, message],
    );
    return rows[0] ?? null;
  }

  /** Environments the pipeline has any deployment in, for clean-up on delete. */
  async environmentsOf(orgId: string, pipelineId: string): Promise<Array<{ environment: string; location_name: string }>> {
    return this.db.query(`SELECT DISTINCT environment, location_name FROM deployments WHERE pipeline_id = $1 AND org_id = $2`, [pipelineId, orgId]);
  }
}
