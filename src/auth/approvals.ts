import { createHash, randomBytes } from 'node:crypto';
import type { Db } from '../adapters/store/db.ts';
import { canonicalJson } from '../canonical-json.ts';
import type { Principal } from './principal.ts';

/**
 * One-time confirmation tokens for calls that need a person's yes when the client cannot ask
 * (no MCP elicitation; a chat turn paused for approval): the first call answers "needs
 * confirmation" with a token; the same call made again with that token goes through. A token is
 * bound to the principal, the tool and the exact arguments, and expires. Tokens live in the store,
 * so one issued before a restart, or by another instance, still works once.
 */
export class ApprovalTokens {
  private readonly db: Db;
  private readonly ttlSeconds: number;

  constructor(db: Db, ttlMs = 10 * 60_000) {
    this.db = db;
    this.ttlSeconds = Math.ceil(ttlMs / 1000);
  }

  async issue(principal: Principal, tool: string, args: unknown): Promise<string> {
    const token = randomBytes(16).toString('base64url');
    // Expired tokens go as new ones come: the table holds only what could still be used.
    await this.db.query(
      `WITH expired AS (DELETE FROM approval_tokens WHERE expires_at < now())
       INSERT INTO approval_tokens (token_hash, call_key, expires_at) VALUES ($1, $2, now() + make_interval(secs => $3))`,
      [hash(token), keyOf(principal, tool, args), this.ttlSeconds],
    );
    return token;
  }

  /** True once per token, and only for the call it was issued for (a wrong call does not use it up). */
  async consume(token: string, principal: Principal, tool: string, args: unknown): Promise<boolean> {
    const rows = await this.db.query(
      `DELETE FROM approval_tokens WHERE token_hash = $1 AND call_key = $2 AND expires_at >= now() RETURNING 1`,
      [hash(token), keyOf(principal, tool, args)],
    );
    return rows.length === 1;
  }
}

const hash = (token: string) => createHash('sha256').update(token).digest('hex');

/**
 * The call a token is bound to: principal, tool and the arguments' canonical JSON. Keys used to be
 * ordered with localeCompare (locale-dependent); since the one code-unit order, a token issued by
 * an instance running the older code for arguments whose keys the two orders rank differently
 * (e.g. "B" beside "a", "ä" beside "z" in Swedish) no longer matches: it can be asked for again, and tokens
 * live ten minutes, so none is left stranded for long.
 */
function keyOf(principal: Principal, tool: string, args: unknown): string {
  return createHash('sha256').update(`${principal.orgId}\0${principal.userId}\0${tool}\0${canonicalJson(args)}`).digest('hex');
}
