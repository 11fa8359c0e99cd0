import { createHash, randomBytes, randomUUID } from 'node:crypto';
import type { Db } from '../adapters/store/db.ts';
import { AppError } from '../errors.ts';
import { ensureOrg } from './identities.ts';
import type { Principal, PrincipalKind, Role } from './principal.ts';

/** What a key list shows: never the key, only its first characters. */
export interface ApiKeyInfo {
  id: string;
  user_id: string;
  user_name: string;
  role: Role;
  kind: PrincipalKind;
  name: string;
  prefix: string;
  created_at: Date;
  last_used_at: Date | null;
  revoked_at: Date | null;
}

/** A key as issued: the only moment the key itself exists outside its holder. */
export interface IssuedKey extends ApiKeyInfo {
  key: string;
}

const KEY_PREFIX = 'cak_';
const SHOWN_CHARS = 12;

/** sha256 is enough for keys: 256 random bits cannot be guessed, so no slow hash is needed. */
export const hashKey = (key: string) => createHash('sha256').update(key).digest('hex');

/** Looks like one of our keys (a JWT has dots; a key never does). */
export const isApiKey = (credential: string) => credential.startsWith(KEY_PREFIX) && !credential.includes('.');

/**
 * API keys: issued for a user of an org as a person's or an agent's, stored only as hashes,
 * listed, rotated (a new key, the old one revoked, in one transaction) and revoked.
 */
export class ApiKeys {
  private readonly db: Db;

  constructor(db: Db) {
    this.db = db;
  }

  /**
   * The principal a key speaks for; null for an unknown or revoked key. Every authenticated request
   * comes through here, so `last_used_at` is written at most once a minute per key, not on each.
   */
  async verify(key: string): Promise<Principal | null> {
    const rows = await this.db.query<{ id: string; org_id: string; user_id: string; kind: PrincipalKind; role: Role }>(
      `WITH found AS (
         SELECT k.id, k.org_id, k.user_id, k.kind, u.role, k.last_used_at
           FROM api_keys k JOIN users u ON u.id = k.user_id
          WHERE k.key_hash = $1 AND k.revoked_at IS NULL
       ), touched AS (
         UPDATE api_keys SET last_used_at = now()
          WHERE id IN (SELECT id FROM found WHERE last_used_at IS NULL OR last_used_at < now() - interval '1 minute')
       )
       SELECT id, org_id, user_id, kind, role FROM found`,
      [hashKey(key)],
    );
    const row = rows[0];
    return row ? { orgId: row.org_id, userId: row.user_id, role: row.role, kind: row.kind, keyId: row.id } : null;
  }

  /** A new key for a user of the caller's org. */
  async create(orgId: string, input: { userId: string; kind: PrincipalKind; name?: string }): Promise<IssuedKey> {
    const users = await this.db.query(`SELECT 1 FROM users WHERE id = $1 AND org_id = $2`, [input.userId, orgId]);
    if (users.length === 0) {
      throw new AppError('not_found:user', `No user with id "${input.userId}" exists in your org.`, { hint: 'List keys to see your org\'s users, or create the user with the CLI (npm run key -- create).' });
    }
    return this.insert(this.db, orgId, input.userId, input.kind, input.name ?? `${input.kind} key`);
  }

  /**
   * The CLI's create: the org (by id, name or slug: see ensureOrg) and the user (by name, in that org) are made when new. A
   * new org's first user is its admin unless a role is given; an existing user's role is changed
   * only when one is given.
   */
  async createForIdentity(input: { org: string; user: string; role?: Role; kind: PrincipalKind; name?: string }): Promise<IssuedKey & { org_id: string; org_created: boolean; user_created: boolean }> {
    return this.db.transaction(async (tx) => {
      const { id: orgId, created: orgCreated } = await ensureOrg(tx, input.org);
      let [user] = await tx.query<{ id: string }>(`SELECT id FROM users WHERE org_id = $1 AND name = $2 ORDER BY created_at LIMIT 1`, [orgId, input.user]);
      const userCreated = !user;
      if (!user) {
        const role = input.role ?? (orgCreated ? 'admin' : 'editor');
        [user] = await tx.query<{ id: string }>(`INSERT INTO users (id, org_id, name, role) VALUES ($1, $2, $3, $4) RETURNING id`, [randomUUID(), orgId, input.user, role]);
      } else if (input.role) {
        await tx.query(`UPDATE users SET role = $2 WHERE id = $1`, [user.id, input.role]);
      }
      const issued = await this.insert(tx, orgId, user!.id, input.kind, input.name ?? `${input.kind} key`);
      return { ...issued, org_id: orgId, org_created: orgCreated, user_created: userCreated };
    });
  }

  /** The org a name, slug or id names (the operator's CLI names orgs); null when none. */
  async findOrg(ref: string): Promise<{ id: string; name: string } | null> {
    const [org] = await this.db.query<{ id: string; name: string }>(
      `SELECT id, name FROM orgs WHERE id::text = $1 OR name = $1 OR slug = $1 ORDER BY (id::text = $1) DESC, (name = $1) DESC, created_at LIMIT 1`,
      [ref],
    );
    return org ?? null;
  }

  /** The org a key belongs to (the operator rotates and revokes by key id alone). */
  async orgOfKey(id: string): Promise<string> {
    const [row] = await this.db.query<{ org_id: string }>(`SELECT org_id FROM api_keys WHERE id::text = $1`, [id]);
    if (!row) throw keyNotFound(id);
    return row.org_id;
  }

  /** Names for a principal's ids: who am I. */
  async describe(principal: Principal): Promise<{ user_name: string | null; org_name: string | null }> {
    const [row] = await this.db.query<{ user_name: string; org_name: string }>(
      `SELECT u.name AS user_name, o.name AS org_name FROM users u JOIN orgs o ON o.id = u.org_id WHERE u.id = $1 AND u.org_id = $2`,
      [principal.userId, principal.orgId],
    );
    return { user_name: row?.user_name ?? null, org_name: row?.org_name ?? null };
  }

  async list(orgId: string): Promise<ApiKeyInfo[]> {
    return this.db.query<ApiKeyInfo>(`${SELECT_INFO} WHERE k.org_id = $1 ORDER BY k.created_at, k.id`, [orgId]);
  }

  /** A new key for the same user, kind and name; the old one stops working in the same step. */
  async rotate(orgId: string, id: string): Promise<IssuedKey> {
    return this.db.transaction(async (tx) => {
      const [old] = await tx.query<{ user_id: string; kind: PrincipalKind; name: string }>(
        `UPDATE api_keys SET revoked_at = now() WHERE id = $1 AND org_id = $2 AND revoked_at IS NULL RETURNING user_id, kind, name`,
        [id, orgId],
      );
      if (!old) throw keyNotFound(id);
      return this.insert(tx, orgId, old.user_id, old.kind, old.name);
    });
  }

  async revoke(orgId: string, id: string): Promise<ApiKeyInfo> {
    const rows = await this.db.query(`UPDATE api_keys SET revoked_at = coalesce(revoked_at, now()) WHERE id = $1 AND org_id = $2 RETURNING id`, [id, orgId]);
    if (rows.length === 0) throw keyNotFound(id);
    const [info] = await this.db.query<ApiKeyInfo>(`${SELECT_INFO} WHERE k.id = $1`, [id]);
    return info!;
  }

  private async insert(db: Db, orgId: string, userId: string, kind: PrincipalKind, name: string): Promise<IssuedKey> {
    const key = KEY_PREFIX + randomBytes(32).toString('base64url');
    const id = randomUUID();
    await db.query(`INSERT INTO api_keys (id, org_id, user_id, kind, name, prefix, key_hash) VALUES ($1, $2, $3, $4, $5, $6, $7)`, [
      id,
      orgId,
      userId,
      kind,
      name,
      key.slice(0, SHOWN_CHARS),
      hashKey(key),
    ]);
    const [info] = await db.query<ApiKeyInfo>(`${SELECT_INFO} WHERE k.id = $1`, [id]);
    return { ...info!, key };
  }
}

const SELECT_INFO = `SELECT k.id, k.user_id, u.name AS user_name, u.role, k.kind, k.name, k.prefix, k.created_at, k.last_used_at, k.revoked_at
  FROM api_keys k JOIN users u ON u.id = k.user_id`;

const keyNotFound = (id: string) =>
  new AppError('not_found:api_key', `No active API key with id "${id}" exists in your org.`, { hint: 'List your org\'s keys (GET /v1/api-keys) to see their ids.' });
