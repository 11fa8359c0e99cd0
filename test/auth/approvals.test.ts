import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from '../../src/adapters/store/db.ts';
import { ApprovalRequests, ApprovalRequiredError, hashId, type GatedCall } from '../../src/auth/approval-requests.ts';
import { ensureLocalPrincipal, LOCAL_PRINCIPAL, type Principal } from '../../src/auth/principal.ts';
import { freshDb, STORE_KINDS } from '../support/databases.ts';

const args = { pipeline_id: 'p1', environment: 'production', version: null };
const call = (over: Partial<GatedCall> = {}): GatedCall => ({ principal: LOCAL_PRINCIPAL, surface: 'mcp', action: 'deploy', args, ...over });
const agent: Principal = { ...LOCAL_PRINCIPAL, kind: 'agent' };

/** Opens a request for the call and returns its id, as the refusal carries it. */
async function refusedWith(approvals: ApprovalRequests, c: GatedCall): Promise<string> {
  const error = await approvals.pass(c).then(() => null, (e: unknown) => e);
  expect(error).toBeInstanceOf(ApprovalRequiredError);
  return (error as ApprovalRequiredError).approvalId;
}

describe.each(STORE_KINDS)('approval requests on %s', (kind) => {
  let db: Db;
  beforeAll(async () => {
    db = await freshDb(kind);
    await ensureLocalPrincipal(db);
  });
  afterAll(() => db.close());

  it('a person approves one exact call; it goes through once, on any instance, in any key order', async () => {
    const id = await refusedWith(new ApprovalRequests(db), call());
    expect(id).toMatch(/^apr_/);
    const other = new ApprovalRequests(db);
    await other.decide(LOCAL_PRINCIPAL, id, true);
    // Another call, another user, another action: not this approval.
    expect(await other.consume(call({ args: { ...args, environment: 'staging' } }))).toBe(false);
    expect(await other.consume(call({ action: 'delete_pipeline' }))).toBe(false);
    expect(await other.consume(call({ principal: { ...LOCAL_PRINCIPAL, userId: '00000000-0000-4000-8000-0000000000aa' } }))).toBe(false);
    await other.pass(call({ args: { version: null, environment: 'production', pipeline_id: 'p1' } }));
    await refusedWith(other, call());
  });

  it('of two uses at once, one goes through', async () => {
    const approvals = new ApprovalRequests(db);
    await approvals.decide(LOCAL_PRINCIPAL, await refusedWith(approvals, call({ action: 'race' })), true);
    const uses = await Promise.all(Array.from({ length: 5 }, () => new ApprovalRequests(db).consume(call({ action: 'race' }))));
    expect(uses.filter(Boolean)).toHaveLength(1);
  });

  it("only a person answers; an agent's key, a denied or expired request let nothing through", async () => {
    const approvals = new ApprovalRequests(db);
    const id = await refusedWith(approvals, call({ action: 'who' }));
    await expect(approvals.decide(agent, id, true)).rejects.toMatchObject({ code: 'forbidden:not_a_person' });
    await expect(approvals.decide({ ...LOCAL_PRINCIPAL, role: 'editor' }, id, true)).rejects.toMatchObject({ code: 'forbidden:role' });
    await expect(approvals.decide({ ...LOCAL_PRINCIPAL, orgId: '00000000-0000-4000-8000-0000000000ff' }, id, true)).rejects.toMatchObject({ code: 'not_found:approval' });
    await approvals.decide(LOCAL_PRINCIPAL, id, false);
    expect(await approvals.consume(call({ action: 'who' }))).toBe(false);
    await expect(approvals.decide(LOCAL_PRINCIPAL, id, true)).rejects.toMatchObject({ code: 'conflict:approval' });

    const late = await refusedWith(approvals, call({ action: 'late' }));
    await db.query(`UPDATE approval_requests SET expires_at = now() - interval '1 second' WHERE id_hash = $1`, [hashId(late)]);
    await expect(approvals.decide(LOCAL_PRINCIPAL, late, true)).rejects.toMatchObject({ code: 'conflict:approval' });
  });

  it('keeps only the hash of an id; a list names requests by it, and deciding by it works', async () => {
    const approvals = new ApprovalRequests(db);
    const id = await refusedWith(approvals, call({ action: 'listed', summary: { what: 'deploy' } }));
    expect(JSON.stringify(await db.query('SELECT * FROM approval_requests'))).not.toContain(id);
    const listed = (await approvals.pending(LOCAL_PRINCIPAL)).find((a) => a.action === 'listed')!;
    expect(listed).toMatchObject({ ref: hashId(id), status: 'pending', summary: { what: 'deploy' } });
    await approvals.decide(LOCAL_PRINCIPAL, listed.ref, true);
    expect(await approvals.consume(call({ action: 'listed' }))).toBe(true);
  });
});
