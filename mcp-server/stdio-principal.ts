import type { Db } from '../src/adapters/store/db.ts';
import type { ApiKeys } from '../src/auth/api-keys.ts';
import type { AuthMode } from '../src/auth/authenticate.ts';
import { ensureLocalPrincipal, type Principal } from '../src/auth/principal.ts';

/**
 * Who the stdio entry acts as when it opens the store itself: the principal of
 * CONSTELLATION_API_KEY when set (an agent's key makes every call a model's), else the local user
 * in AUTH_MODE=local. AUTH_MODE=required without a key, or a key that is not good, is refused.
 */
export async function stdioPrincipal(opts: { db: Db; keys: ApiKeys; apiKey: string | undefined; mode: AuthMode }): Promise<Principal> {
  if (opts.apiKey) {
    const principal = await opts.keys.verify(opts.apiKey);
    if (!principal) throw new Error('CONSTELLATION_API_KEY is not a valid key (unknown or revoked). Issue one with: npm run key -- create --org <org> --user <user> --kind agent');
    return principal;
  }
  if (opts.mode === 'required') throw new Error('AUTH_MODE=required: set CONSTELLATION_API_KEY to the key this assistant acts with (npm run key -- create --org <org> --user <user> --kind agent).');
  return ensureLocalPrincipal(opts.db);
}

/** The headers the bridge sends to the running service: the key, when there is one. */
export const bridgeHeaders = (apiKey: string | undefined): Record<string, string> => (apiKey ? { authorization: `Bearer ${apiKey}` } : {});
