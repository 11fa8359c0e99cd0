import { AppError } from '../errors.ts';
import { isApiKey, type ApiKeys } from './api-keys.ts';
import type { Principal } from './principal.ts';

/**
 * local: a request without credentials acts as the one local user (the embedded default, on
 * loopback only: see listen-policy.ts); required: only API keys and JWTs get in. In both, a
 * credential that is sent must be good: a bad key is a 401, never a fall back to the local user.
 */
export type AuthMode = 'local' | 'required';

/** Checks one kind of bearer credential (a Supabase JWT); null when it is not good. */
export interface CredentialVerifier {
  verify(token: string): Promise<Principal | null>;
}

export interface AuthenticatorOptions {
  mode: AuthMode;
  keys: ApiKeys;
  /** The local user (AUTH_MODE=local). */
  local: Principal;
  /** Bearer credentials that are not API keys: JWTs, when configured. */
  jwt?: CredentialVerifier;
}

/** Who a request's Authorization header speaks for; the one place every surface asks. */
export class Authenticator {
  private readonly opts: AuthenticatorOptions;

  constructor(opts: AuthenticatorOptions) {
    this.opts = opts;
  }

  get mode(): AuthMode {
    return this.opts.mode;
  }

  /** The principal for an Authorization header value (or none); throws a 401 that says what to send. */
  async authenticate(authorization: string | null | undefined): Promise<Principal> {
    if (!authorization) {
      if (this.opts.mode === 'local') return this.opts.local;
      throw unauthorized('This service needs a credential: none was sent.');
    }
    const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization);
    if (!match) throw unauthorized('The Authorization header must be "Bearer <API key or JWT>".');
    const credential = match[1]!;
    const principal = isApiKey(credential) ? await this.opts.keys.verify(credential) : await this.opts.jwt?.verify(credential) ?? null;
    if (!principal) throw unauthorized(isApiKey(credential) ? 'That API key is not valid: unknown or revoked.' : this.opts.jwt ? 'That token is not valid: bad signature, expired, or not for this service.' : 'That credential is not an API key, and this service accepts no JWTs (SUPABASE_URL or SUPABASE_JWT_SECRET is not set).');
    return principal;
  }
}

export function unauthorized(message: string): AppError {
  return new AppError('unauthorized', message, {
    hint: 'Send Authorization: Bearer <key>. An admin issues keys with: npm run key -- create --org <org> --user <user>.',
    headers: { 'www-authenticate': 'Bearer realm="constellation-agent"' },
  });
}
