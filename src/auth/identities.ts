import { randomUUID } from 'node:crypto';
import type { Db } from '../adapters/store/db.ts';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * The org a reference names, made when new: a UUID names the org with that id (made with that
 * id), anything else an org's name or slug (made with that name). The keys CLI and JWT claims both
 * name orgs this way.
 */
export async function ensureOrg(db: Db, ref: string): Promise<{ id: string; created: boolean }> {
  const isId = UUID.test(ref);
  const find = () =>
    isId
      ? db.query<{ id: string }>(`SELECT id FROM orgs WHERE id = $1`, [ref.toLowerCase()])
      : db.query<{ id: string }>(`SELECT id FROM orgs WHERE name = $1 OR slug = $1 ORDER BY (name = $1) DESC, created_at LIMIT 1`, [ref]);
  const [found] = await find();
  if (found) return { id: found.id, created: false };
  // Two first requests at once: the id's conflict leaves one row, and both read it back.
  const [made] = await db.query<{ id: string }>(`INSERT INTO orgs (id, name) VALUES ($1, $2) ON CONFLICT (id) DO NOTHING RETURNING id`, [isId ? ref.toLowerCase() : randomUUID(), ref]);
  if (made) return { id: made.id, created: true };
  const [again] = await find();
  return { id: again!.id, created: false };
}

/**
 * The user an identity provider knows by `externalId` (a JWT's subject), made on first sight in
 * `orgId`. The token is the truth about org and role: a changed claim moves the user, and a new
 * role takes effect with the next token.
 */
export async function ensureExternalUser(db: Db, input: { externalId: string; orgId: string; role: string; email?: string }): Promise<string> {
  const find = async () => (await db.query<{ id: string; org_id: string; role: string }>(`SELECT id, org_id, role FROM users WHERE external_id = $1`, [input.externalId]))[0];
  let user = await find();
  if (!user) {
    await db.query(`INSERT INTO users (id, org_id, name, email, role, external_id) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (external_id) DO NOTHING`, [
      randomUUID(),
      input.orgId,
      input.email ?? input.externalId,
      input.email ?? null,
      input.role,
      input.externalId,
    ]);
    user = (await find())!;
  }
  if (user.org_id !== input.orgId || user.role !== input.role) {
    await db.query(`UPDATE users SET org_id = $2, role = $3 WHERE id = $1`, [user.id, input.orgId, input.role]);
  }
  return user.id;
}
