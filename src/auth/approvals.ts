import { createHash, randomBytes } from 'node:crypto';
import type { Principal } from './principal.ts';

/**
 * One-time confirmation tokens for calls that need a person's yes when the client cannot ask
 * (no MCP elicitation): the first call answers "needs confirmation" with a token; the same call
 * made again with that token goes through. A token is bound to the principal, the tool and the
 * exact arguments, and expires.
 */
export class ApprovalTokens {
  private readonly pending = new Map<string, { key: string; expires: number }>();
  private readonly ttlMs: number;

  constructor(ttlMs = 10 * 60_000) {
    this.ttlMs = ttlMs;
  }

  issue(principal: Principal, tool: string, args: unknown): string {
    this.sweep();
    const token = randomBytes(16).toString('base64url');
    this.pending.set(token, { key: keyOf(principal, tool, args), expires: Date.now() + this.ttlMs });
    return token;
  }

  /** True once per token, and only for the call it was issued for. */
  consume(token: string, principal: Principal, tool: string, args: unknown): boolean {
    const entry = this.pending.get(token);
    if (!entry || entry.expires < Date.now() || entry.key !== keyOf(principal, tool, args)) return false;
    this.pending.delete(token);
    return true;
  }

  private sweep(): void {
    const now = Date.now();
    for (const [token, entry] of this.pending) if (entry.expires < now) this.pending.delete(token);
  }
}

function keyOf(principal: Principal, tool: string, args: unknown): string {
  const canonical = JSON.stringify(args, (_k, v) => (v && typeof v === 'object' && !Array.isArray(v) ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => a.localeCompare(b))) : v));
  return createHash('sha256').update(`${principal.orgId}\0${principal.userId}\0${tool}\0${canonical}`).digest('hex');
}
