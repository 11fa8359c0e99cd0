import { describe, expect, it } from 'vitest';
import { checkAccess, submitKey, type KeyStore, type Me } from '../../web/auth/access.ts';

const ME: Me = { user_id: 'u1', user_name: 'ada', org_id: 'o1', org_name: 'acme', role: 'admin', kind: 'person', key_id: 'k1' };
const GOOD = 'cak_good';

function memoryKeys(initial: string | null = null): KeyStore & { value: string | null } {
  const store = {
    value: initial,
    get: () => store.value,
    set: (key: string) => void (store.value = key),
    clear: () => void (store.value = null),
  };
  return store;
}

class HttpError extends Error {
  constructor(message: string, status: number) {
    super(message);
    this.status = status;
  }
  status: number;
}

/** A service as GET /v1/me behaves: in required mode only the good key passes, in local mode no key passes too. */
function service(mode: 'local' | 'required', keys: KeyStore, seen: (string | null)[] = []) {
  return async (): Promise<Me> => {
    const key = keys.get();
    seen.push(key);
    if (key === GOOD) return ME;
    if (key) throw new HttpError('The API key is not valid (unknown, revoked or rotated).', 401);
    if (mode === 'local') return { ...ME, user_name: 'local', key_id: null };
    throw new HttpError('Authentication required: send Authorization: Bearer <API key or JWT>.', 401);
  };
}

describe('deciding whether the page needs a key', () => {
  it('opens straight away in local mode, having asked without a key', async () => {
    const keys = memoryKeys();
    const seen: (string | null)[] = [];
    const access = await checkAccess(service('local', keys, seen), keys);
    expect(access).toMatchObject({ kind: 'local', me: { user_name: 'local' } });
    expect(seen).toEqual([null]);
  });

  it('asks for a key when the service answers 401 without one', async () => {
    const keys = memoryKeys();
    expect(await checkAccess(service('required', keys), keys)).toEqual({ kind: 'needs_key' });
  });

  it('reuses a saved key that still works, and drops one that no longer does, saying why', async () => {
    const saved = memoryKeys(GOOD);
    expect(await checkAccess(service('required', saved), saved)).toEqual({ kind: 'signed_in', me: ME });
    expect(saved.value).toBe(GOOD);

    const revoked = memoryKeys('cak_revoked');
    const access = await checkAccess(service('required', revoked), revoked);
    expect(access).toEqual({ kind: 'needs_key', message: 'The saved key was refused: The API key is not valid (unknown, revoked or rotated).' });
    expect(revoked.value).toBeNull();
  });

  it('falls back to local mode when a stale key is refused by a service that needs none', async () => {
    const keys = memoryKeys('cak_stale');
    expect(await checkAccess(service('local', keys), keys)).toMatchObject({ kind: 'local' });
    expect(keys.value).toBeNull();
  });

  it('reports a service that fails for another reason instead of asking for a key', async () => {
    const keys = memoryKeys();
    const down = async (): Promise<Me> => {
      throw new HttpError('Service Unavailable', 503);
    };
    expect(await checkAccess(down, keys)).toEqual({ kind: 'unreachable', message: 'Service Unavailable' });
  });
});

describe('a key typed into the prompt', () => {
  it('is kept (trimmed) when the service accepts it', async () => {
    const keys = memoryKeys();
    expect(await submitKey(`  ${GOOD}\n`, service('required', keys), keys)).toEqual({ kind: 'signed_in', me: ME });
    expect(keys.value).toBe(GOOD);
  });

  it("is not kept when refused, and the server's message is shown in the prompt again", async () => {
    const keys = memoryKeys();
    expect(await submitKey('cak_wrong', service('required', keys), keys)).toEqual({ kind: 'needs_key', message: 'The API key is not valid (unknown, revoked or rotated).' });
    expect(keys.value).toBeNull();
  });

  it('is not sent at all when empty', async () => {
    const keys = memoryKeys();
    const seen: (string | null)[] = [];
    expect((await submitKey('   ', service('required', keys, seen), keys)).kind).toBe('needs_key');
    expect(seen).toEqual([]);
  });
});
