/**
 * Whether the page needs a person's API key, decided by asking the service who we are: GET /v1/me
 * answers 200 without a key in local mode and 401 when authentication is required. Kept free of
 * React and of fetch so the whole decision is tested on its own.
 */

/** GET /v1/me */
export interface Me {
  user_id: string;
  user_name: string | null;
  org_id: string;
  org_name: string | null;
  role: string;
  kind: string;
  key_id: string | null;
}

export type Access =
  | { kind: 'local'; me: Me }
  | { kind: 'signed_in'; me: Me }
  | { kind: 'needs_key'; message?: string }
  | { kind: 'unreachable'; message: string };

/** Where the tab keeps its key (web/api.ts's `apiKey`: sessionStorage, never a cookie). */
export interface KeyStore {
  get(): string | null;
  set(key: string): void;
  clear(): void;
}

/** GET /v1/me with whatever key the store holds; throws the API's error (with its status) on failure. */
export type WhoAmI = () => Promise<Me>;

const statusOf = (e: unknown) => (typeof e === 'object' && e !== null && 'status' in e ? (e as { status: unknown }).status : undefined);
const messageOf = (e: unknown) => (e instanceof Error ? e.message : String(e));

/** The state the page opens in: the saved key if it still works, else local mode if the service allows it, else the prompt. */
export async function checkAccess(whoAmI: WhoAmI, keys: KeyStore): Promise<Access> {
  if (keys.get()) {
    try {
      return { kind: 'signed_in', me: await whoAmI() };
    } catch (e) {
      if (statusOf(e) !== 401) return { kind: 'unreachable', message: messageOf(e) };
      // A revoked or rotated key: drop it, then decide as a tab that never had one.
      keys.clear();
      const without = await checkAccess(whoAmI, keys);
      return without.kind === 'needs_key' ? { kind: 'needs_key', message: `The saved key was refused: ${messageOf(e)}` } : without;
    }
  }
  try {
    return { kind: 'local', me: await whoAmI() };
  } catch (e) {
    return statusOf(e) === 401 ? { kind: 'needs_key' } : { kind: 'unreachable', message: messageOf(e) };
  }
}

/** Tries a key a person typed: kept only if the service accepts it, and the server's reason shown if not. */
export async function submitKey(typed: string, whoAmI: WhoAmI, keys: KeyStore): Promise<Access> {
  const key = typed.trim();
  if (!key) return { kind: 'needs_key', message: 'Paste your API key first.' };
  keys.set(key);
  try {
    return { kind: 'signed_in', me: await whoAmI() };
  } catch (e) {
    keys.clear();
    return statusOf(e) === 401 ? { kind: 'needs_key', message: messageOf(e) } : { kind: 'unreachable', message: messageOf(e) };
  }
}
