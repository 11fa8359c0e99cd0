import type { Db } from '../adapters/store/db.ts';

/** Who is acting. Every row a user makes carries their org and user id. */
export interface Principal {
  userId: string;
  orgId: string;
}

// Fixed ids so a local install keeps the same owner across restarts.
export const LOCAL_PRINCIPAL: Principal = {
  orgId: '00000000-0000-4000-8000-000000000001',
  userId: '00000000-0000-4000-8000-000000000002',
};

/** Makes sure the local org and user exist (AUTH_MODE=local). */
export async function ensureLocalPrincipal(db: Db, principal: Principal = LOCAL_PRINCIPAL): Promise<Principal> {
  await db.transaction(async (tx) => {
    await tx.query(`INSERT INTO orgs (id, name) VALUES ($1, 'local') ON CONFLICT (id) DO NOTHING`, [principal.orgId]);
    await tx.query(
      `INSERT INTO users (id, org_id, name) VALUES ($1, $2, 'local user') ON CONFLICT (id) DO NOTHING`,
      [principal.userId, principal.orgId],
    );
  });
  return principal;
}
