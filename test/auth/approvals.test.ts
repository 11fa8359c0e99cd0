import { execFileSync } from 'node:child_process';
import { resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from '../../src/adapters/store/db.ts';
import { openDb } from '../../src/adapters/store/open-db.ts';
import { ApprovalTokens } from '../../src/auth/approvals.ts';
import { ensureLocalPrincipal, LOCAL_PRINCIPAL } from '../../src/auth/principal.ts';
import { freshDb, freshDbUrl, STORE_KINDS } from '../support/databases.ts';

const args = { pipeline_id: 'p1', environment: 'production', dry_run: false };

describe.each(STORE_KINDS)('confirmation tokens on %s', (kind) => {
  let db: Db;
  beforeAll(async () => {
    db = await freshDb(kind);
    await ensureLocalPrincipal(db);
  });
  afterAll(() => db.close());

  it('one issued by an instance (or before a restart) works once on another, for its call only', async () => {
    const token = await new ApprovalTokens(db).issue(LOCAL_PRINCIPAL, 'deploy_pipeline', args);
    const other = new ApprovalTokens(db);
    // Another call, another user, or a made-up token: refused, and the token is not used up.
    expect(await other.consume(token, LOCAL_PRINCIPAL, 'deploy_pipeline', { ...args, environment: 'staging' })).toBe(false);
    expect(await other.consume(token, LOCAL_PRINCIPAL, 'delete_pipeline', args)).toBe(false);
    expect(await other.consume(token, { ...LOCAL_PRINCIPAL, userId: '00000000-0000-4000-8000-0000000000aa' }, 'deploy_pipeline', args)).toBe(false);
    expect(await other.consume(`${token}x`, LOCAL_PRINCIPAL, 'deploy_pipeline', args)).toBe(false);
    // The same arguments in another order are the same call.
    expect(await other.consume(token, LOCAL_PRINCIPAL, 'deploy_pipeline', { dry_run: false, environment: 'production', pipeline_id: 'p1' })).toBe(true);
    expect(await other.consume(token, LOCAL_PRINCIPAL, 'deploy_pipeline', args)).toBe(false);
  });

  it('of two uses at once, one goes through', async () => {
    const approvals = new ApprovalTokens(db);
    const token = await approvals.issue(LOCAL_PRINCIPAL, 'deploy_pipeline', args);
    const uses = await Promise.all(Array.from({ length: 5 }, () => new ApprovalTokens(db).consume(token, LOCAL_PRINCIPAL, 'deploy_pipeline', args)));
    expect(uses.filter(Boolean)).toHaveLength(1);
  });

  it('expires, and keeps no token in the clear nor expired ones for long', async () => {
    const shortLived = new ApprovalTokens(db, 1000);
    const token = await shortLived.issue(LOCAL_PRINCIPAL, 'deploy_pipeline', args);
    const stored = await db.query<{ token_hash: string }>('SELECT token_hash FROM approval_tokens');
    expect(stored.some((r) => r.token_hash === token)).toBe(false);
    await db.query(`UPDATE approval_tokens SET expires_at = now() - interval '1 second'`);
    expect(await shortLived.consume(token, LOCAL_PRINCIPAL, 'deploy_pipeline', args)).toBe(false);
    // The next issue sweeps the expired ones.
    await shortLived.issue(LOCAL_PRINCIPAL, 'deploy_pipeline', args);
    expect(await db.query('SELECT 1 FROM approval_tokens WHERE expires_at < now()')).toEqual([]);
  });
});

describe('confirmation tokens across locales (postgres)', () => {
  it('one issued by an instance in a Swedish locale works on one in another locale', async () => {
    const url = await freshDbUrl();
    const db = await openDb({ databaseUrl: url });
    try {
      await ensureLocalPrincipal(db);
      // Keys that localeCompare orders differently in sv_SE ("ä" after "z") and here.
      const call = { z: 1, ä: 2, a: 3, B: 4, nested: { Ä: true, b: false } };
      const src = resolve(import.meta.dirname, '../../src');
      const issue = `
        import { openDb } from ${JSON.stringify(`${src}/adapters/store/open-db.ts`)};
        import { ApprovalTokens } from ${JSON.stringify(`${src}/auth/approvals.ts`)};
        import { LOCAL_PRINCIPAL } from ${JSON.stringify(`${src}/auth/principal.ts`)};
        const db = await openDb({ databaseUrl: process.env.DATABASE_URL });
        process.stdout.write(await new ApprovalTokens(db).issue(LOCAL_PRINCIPAL, 'deploy_pipeline', ${JSON.stringify(call)}));
        await db.close();`;
      const token = execFileSync(process.execPath, ['--input-type=module', '-e', issue], {
        env: { ...process.env, DATABASE_URL: url, LC_ALL: 'sv_SE.UTF-8', LANG: 'sv_SE.UTF-8' },
        encoding: 'utf8',
      }).trim();
      expect(token).toMatch(/^[\w-]{20,}$/);
      const here = { nested: { b: false, Ä: true }, B: 4, a: 3, ä: 2, z: 1 };
      expect(await new ApprovalTokens(db).consume(token, LOCAL_PRINCIPAL, 'deploy_pipeline', here)).toBe(true);
    } finally {
      await db.close();
    }
  });
});
