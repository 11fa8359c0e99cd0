import { createHash, randomBytes } from 'node:crypto';
import type { Db } from '../adapters/store/db.ts';
import { canonicalJson } from '../canonical-json.ts';
import type { Surface } from '../dagster/policy.ts';
import { AppError, notFound } from '../errors.ts';
import type { Principal } from './principal.ts';
import { requireRole, type Action } from './roles.ts';

/** A call that waits for a person's yes: who made it, where, what it does, with which arguments. */
export interface GatedCall {
  principal: Principal;
  surface: Surface;
  /** A tool's name, or a domain action shared by every surface (e.g. "deploy"). */
  action: string;
  args: unknown;
  /** What the person is shown when asked (never anything secret). */
  summary?: Record<string, unknown>;
}

export interface ApprovalView {
  /** The hash of the id: a list can name a request without handing out its id. Approving by it works too. */
  ref: string;
  action: string;
  surface: string;
  summary: Record<string, unknown>;
  status: 'pending' | 'approved' | 'denied' | 'used';
  user_id: string;
  created_at: string;
  expires_at: string;
}

// What deciding each action needs; anything not listed needs an admin.
const ROLE_TO_DECIDE: Record<string, Action> = {
  deploy: 'deploy',
  terminate_run: 'run',
  delete_pipeline: 'edit',
};

/**
 * Approval requests only a person can answer. A gated call made by a model (an MCP or chat tool
 * call, or REST with an agent's key) that no person has approved yet opens a request and is
 * refused with its id; a person approves it (`npm run approve -- <id>`, REST, or the chat) and the
 * same call, made again, goes through once. The id approves nothing by itself: only a person's
 * principal can answer, so a model that reads it gains nothing. Only the id's hash is kept.
 */
export class ApprovalRequests {
  private readonly db: Db;
  private readonly ttlSeconds: number;

  constructor(db: Db, ttlMs = 60 * 60_000) {
    this.db = db;
    this.ttlSeconds = Math.ceil(ttlMs / 1000);
  }

  /** Lets the call through when a person approved this exact call (using that approval up); else opens a request and throws. */
  async pass(call: GatedCall): Promise<void> {
    if (await this.consume(call)) return;
    throw new ApprovalRequiredError(await this.open(call), call.action);
  }

  /** True once for each approved request of this exact call. */
  async consume(call: GatedCall): Promise<boolean> {
    const rows = await this.db.query(
      `UPDATE approval_requests SET status = 'used'
        WHERE id_hash = (SELECT id_hash FROM approval_requests
                          WHERE call_key = $1 AND status = 'approved' AND expires_at >= now()
                          ORDER BY created_at LIMIT 1 FOR UPDATE SKIP LOCKED)
          AND status = 'approved'
        RETURNING 1`,
      [callKey(call)],
    );
    return rows.length === 1;
  }

  /** Opens a pending request for this call; returns its id (shown once, kept only as a hash). */
  async open(call: GatedCall): Promise<string> {
    const id = `apr_${randomBytes(16).toString('base64url')}`;
    const { principal } = call;
    await this.db.query(
      `INSERT INTO approval_requests (id_hash, org_id, user_id, surface, action, call_key, summary, expires_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb, now() + make_interval(secs => $8))`,
      [hashId(id), principal.orgId, principal.userId, call.surface, call.action, callKey(call), JSON.stringify(call.summary ?? { args: call.args }), this.ttlSeconds],
    );
    return id;
  }

  /** The org's requests still waiting for an answer. */
  async pending(principal: Principal): Promise<ApprovalView[]> {
    const rows = await this.db.query<Row>(
      `SELECT * FROM approval_requests WHERE org_id = $1 AND status = 'pending' AND expires_at >= now() ORDER BY created_at DESC LIMIT 200`,
      [principal.orgId],
    );
    return rows.map(view);
  }

  /** Refuses anyone but a person: an agent's key, or a model, cannot answer an approval. */
  assertPerson(principal: Principal): void {
    if (principal.kind === 'person') return;
    throw new AppError('forbidden:not_a_person', 'Only a person can answer an approval request; this credential is an agent\'s (a model acting), so it cannot approve or deny.', {
      hint: 'A person of your org approves with their own key: npm run approve -- <id>.',
    });
  }

  /**
   * A person's answer to a pending request of their org: `id` is the request's id (apr_…) or the
   * ref a list shows. Needs the role the action needs. Another org's request is a 404.
   */
  async decide(principal: Principal, id: string, approve: boolean): Promise<ApprovalView> {
    this.assertPerson(principal);
    const ref = /^[0-9a-f]{64}$/.test(id) ? id : hashId(id);
    const [row] = await this.db.query<Row>(`SELECT * FROM approval_requests WHERE id_hash = $1 AND org_id = $2`, [ref, principal.orgId]);
    if (!row) throw notFound('approval', id);
    requireRole(principal, ROLE_TO_DECIDE[row.action] ?? 'admin', `Answering a ${row.action} approval`);
    const [decided] = await this.db.query<Row>(
      `UPDATE approval_requests SET status = $3, decided_by = $4
        WHERE id_hash = $1 AND org_id = $2 AND status = 'pending' AND expires_at >= now() RETURNING *`,
      [ref, principal.orgId, approve ? 'approved' : 'denied', principal.userId],
    );
    if (!decided) {
      const why = row.status !== 'pending' ? `was already ${row.status}` : 'has expired';
      throw new AppError('conflict:approval', `Approval request ${id} ${why}; nothing was changed.`, { hint: 'Make the call again to open a new request.' });
    }
    return view(decided);
  }
}

/** The refusal a gated call gets: the id a person approves, and what to do next. */
export class ApprovalRequiredError extends AppError {
  readonly approvalId: string;

  constructor(id: string, action: string) {
    super('forbidden:approval_required', `${action} needs a person's approval; approval request ${id} is waiting for one. Nothing was done.`, {
      hint: `A person of your org approves it: npm run approve -- ${id} (or answers it in the chat). Then make the same call again, with the same arguments; it goes through once.`,
    });
    this.approvalId = id;
  }
}

/** Only the hash of an id is kept: reading the table gives no id to hand out. */
export const hashId = (id: string) => createHash('sha256').update(id).digest('hex');

/** The exact call a request is for: org, user, action and the arguments' canonical JSON. */
function callKey(call: GatedCall): string {
  const { principal, action, args } = call;
  return createHash('sha256').update(`${principal.orgId}\0${principal.userId}\0${action}\0${canonicalJson(args)}`).digest('hex');
}

interface Row {
  id_hash: string;
  user_id: string;
  surface: string;
  action: string;
  summary: Record<string, unknown>;
  status: ApprovalView['status'];
  created_at: Date | string;
  expires_at: Date | string;
}

const iso = (d: Date | string) => new Date(d).toISOString();

function view(row: Row): ApprovalView {
  return { ref: row.id_hash, action: row.action, surface: row.surface, summary: row.summary, status: row.status, user_id: row.user_id, created_at: iso(row.created_at), expires_at: iso(row.expires_at) };
}
