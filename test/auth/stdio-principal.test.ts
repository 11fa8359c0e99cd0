import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from '../../src/adapters/store/db.ts';
import { ApiKeys } from '../../src/auth/api-keys.ts';
import { LOCAL_PRINCIPAL } from '../../src/auth/principal.ts';
import { bridgeHeaders, stdioPrincipal } from '../../mcp-server/stdio-principal.ts';
import { freshDb } from '../support/databases.ts';

// Who the stdio entry acts as when it opens the store itself, and what it sends when it bridges.

describe('the stdio entry acts as CONSTELLATION_API_KEY', () => {
  let db: Db;
  let keys: ApiKeys;
  beforeAll(async () => {
    db = await freshDb('pglite');
    keys = new ApiKeys(db);
  });
  afterAll(() => db.close());

  it("a key: that key's principal, an agent's included", async () => {
    const issued = await keys.createForIdentity({ org: 'acme', user: 'claude', kind: 'agent', role: 'editor' });
    for (const mode of ['local', 'required'] as const) {
      expect(await stdioPrincipal({ db, keys, apiKey: issued.key, mode })).toEqual({ orgId: issued.org_id, userId: issued.user_id, role: 'editor', kind: 'agent', keyId: issued.id });
    }
  });

  it('a bad or revoked key is refused, never the local user', async () => {
    const issued = await keys.createForIdentity({ org: 'acme', user: 'gone', kind: 'agent' });
    await keys.revoke(issued.org_id, issued.id);
    for (const apiKey of [issued.key, 'cak_nope']) {
      await expect(stdioPrincipal({ db, keys, apiKey, mode: 'local' })).rejects.toThrow(/CONSTELLATION_API_KEY is not a valid key/);
    }
  });

  it('no key: the local user in local mode; refused in required mode', async () => {
    expect(await stdioPrincipal({ db, keys, apiKey: undefined, mode: 'local' })).toMatchObject({ orgId: LOCAL_PRINCIPAL.orgId, userId: LOCAL_PRINCIPAL.userId });
    await expect(stdioPrincipal({ db, keys, apiKey: undefined, mode: 'required' })).rejects.toThrow(/set CONSTELLATION_API_KEY/);
  });

  it('the bridge sends the key as a bearer token, and nothing without one', () => {
    expect(bridgeHeaders('cak_abc')).toEqual({ authorization: 'Bearer cak_abc' });
    expect(bridgeHeaders(undefined)).toEqual({});
  });
});
