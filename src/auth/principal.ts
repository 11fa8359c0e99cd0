import type { Db } from '../adapters/store/db.ts';

/** What a user may do in their org, each role including the ones before it. */
export const ROLES = ['viewer', 'editor', 'deployer', 'admin'] as const;
export type Role = (typeof ROLES)[number];

/**
 * Who a credential speaks for: a person, or an agent (an assistant holding a key in its config).
 * An agent's calls count as a model's for every approval rule (see callerOf in dagster/policy.ts).
 */
export type PrincipalKind = 'person' | 'agent';

/**
 * Who is acting. Every row a user makes carries their org and user id. `role` and `kind` come
 * from the credential (API key, JWT, or AUTH_MODE=local's one local user); internal callers that
 * act for a stored row's owner (the deploy worker compiling a queued deployment) leave them out.
 */
export interface Principal {
  userId: string;
  orgId: string;
  role?: Role;
  kind?: PrincipalKind;
  /** The API key the request came with, if any (so a key cannot revoke itself unseen). */
  keyId?: string;
}

// Fixed ids so a local install keeps the same owner across restarts.
export const LOCAL_PRINCIPAL: Principal = {
  orgId: '00000000-0000-4000-8000-000000000001',
  userId: '00000000-0000-4000-8000-000000000002',
  role: 'admin',
  kind: 'person',
};

/** Makes sure the local org and user exist (AUTH_MODE=local). */
export async function ensureLocalPrincipal(db: Db, principal: Principal = LOCAL_PRINCIPAL): Promise<Principal> {
  await db.transaction(async (tx) => {
    await tx.query(`INSERT INTO orgs (id, name) VALUES ($1, 'local') ON CONFLICT (id) DO NOTHING`, [principal.orgId]);
    await tx.query(
      `INSERT INTO users (id, org_id, name, role) VALUES ($1, $2, 'local user', $3) ON CONFLICT (id) DO NOTHING`,
      [principal.userId, principal.orgId, principal.role ?? 'admin'],
    );
  });
  return { role: 'admin', kind: 'person', ...principal };
}
