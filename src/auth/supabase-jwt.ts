import { createClient } from '@supabase/supabase-js';
import { decodeProtectedHeader, jwtVerify, type JWTPayload } from 'jose';
import type { Db } from '../adapters/store/db.ts';
import type { CredentialVerifier } from './authenticate.ts';
import { unauthorized } from './authenticate.ts';
import { ensureExternalUser, ensureOrg } from './identities.ts';
import { ROLES, type Principal, type Role } from './principal.ts';

export interface SupabaseJwtOptions {
  db: Db;
  /** The project URL: asymmetric tokens (ES256, RS256) are checked against its JWKS. */
  url?: string;
  anonKey?: string;
  /** The legacy HS256 secret. */
  secret?: string;
  /** Dot paths into the claims: which org the user acts in, and with what role. */
  orgClaim: string;
  roleClaim: string;
  /** Supabase gives signed-in users' tokens this audience. */
  audience?: string;
}

const ASYMMETRIC = new Set(['ES256', 'RS256']);

/**
 * Supabase Auth's access tokens: the subject is a user (made on first sight), the org claim their
 * org (made on first sight), the role claim their role (viewer when absent or unknown).
 */
export class SupabaseJwtVerifier implements CredentialVerifier {
  private readonly opts: SupabaseJwtOptions;
  private readonly auth;
  private readonly secret;

  constructor(opts: SupabaseJwtOptions) {
    this.opts = opts;
    this.secret = opts.secret ? new TextEncoder().encode(opts.secret) : null;
    this.auth = opts.url ? jwksClient(opts.url, opts.anonKey) : null;
  }

  async verify(token: string): Promise<Principal | null> {
    const claims = await this.claims(token);
    if (!claims || typeof claims.sub !== 'string' || !claims.sub) return null;
    const org = claimAt(claims, this.opts.orgClaim);
    if (typeof org !== 'string' || !org) {
      throw unauthorized(`The token has no "${this.opts.orgClaim}" claim naming your org.`);
    }
    const role = roleFrom(claimAt(claims, this.opts.roleClaim));
    const email = typeof claims.email === 'string' && claims.email ? claims.email : undefined;
    const { orgId, userId } = await this.opts.db.transaction(async (tx) => {
      const { id: orgId } = await ensureOrg(tx, org);
      const userId = await ensureExternalUser(tx, { externalId: claims.sub!, orgId, role, ...(email ? { email } : {}) });
      return { orgId, userId };
    });
    return { orgId, userId, role, kind: 'person' };
  }

  /** The verified claims, or null: bad signature, unknown key, expired, another audience, an algorithm not configured. */
  private async claims(token: string): Promise<JWTPayload | null> {
    let alg: string | undefined;
    let kid: string | undefined;
    try {
      ({ alg, kid } = decodeProtectedHeader(token));
    } catch {
      return null;
    }
    const audience = this.opts.audience ?? 'authenticated';
    if (alg === 'HS256') {
      if (!this.secret) return null;
      try {
        return (await jwtVerify(token, this.secret, { algorithms: ['HS256'], audience, requiredClaims: ['exp', 'sub'] })).payload;
      } catch {
        return null;
      }
    }
    // Without a kid, getClaims would ask Supabase's server (getUser): only keyed tokens go to it.
    if (!this.auth || !alg || !ASYMMETRIC.has(alg) || !kid) return null;
    try {
      const { data, error } = await this.auth.getClaims(token);
      if (error || !data) return null;
      const claims = data.claims as JWTPayload;
      const aud = Array.isArray(claims.aud) ? claims.aud : [claims.aud];
      return aud.includes(audience) ? claims : null;
    } catch {
      return null;
    }
  }
}

/**
 * A Supabase client that verifies against `${url}/auth/v1/.well-known/jwks.json` (cached by
 * supabase-js) and may fetch nothing else: a kid missing from the JWKS would otherwise make
 * getClaims ask the server about the token (getUser) on every such request.
 */
function jwksClient(url: string, anonKey = 'anon') {
  const onlyJwks: typeof fetch = (input, init) => {
    const target = input instanceof Request ? input.url : String(input);
    if (new URL(target).pathname.endsWith('/auth/v1/.well-known/jwks.json')) return fetch(input, init);
    return Promise.resolve(new Response(JSON.stringify({ code: 401, msg: 'not asked' }), { status: 401, headers: { 'content-type': 'application/json' } }));
  };
  return createClient(url, anonKey, { auth: { persistSession: false, autoRefreshToken: false, detectSessionInUrl: false }, global: { fetch: onlyJwks } }).auth;
}

/** The value at a dot path (`app_metadata.org_id`) in the claims. */
export function claimAt(claims: Record<string, unknown>, path: string): unknown {
  let value: unknown = claims;
  for (const part of path.split('.')) value = value && typeof value === 'object' ? (value as Record<string, unknown>)[part] : undefined;
  return value;
}

const roleFrom = (value: unknown): Role => ((ROLES as readonly unknown[]).includes(value) ? (value as Role) : 'viewer');

/** The verifier the config asks for, or none when neither SUPABASE_URL nor SUPABASE_JWT_SECRET is set. */
export function supabaseJwtFromConfig(
  config: { SUPABASE_URL?: string | undefined; SUPABASE_ANON_KEY?: string | undefined; SUPABASE_JWT_SECRET?: string | undefined; JWT_ORG_CLAIM: string; JWT_ROLE_CLAIM: string },
  db: Db,
): SupabaseJwtVerifier | undefined {
  if (!config.SUPABASE_URL && !config.SUPABASE_JWT_SECRET) return undefined;
  return new SupabaseJwtVerifier({
    db,
    orgClaim: config.JWT_ORG_CLAIM,
    roleClaim: config.JWT_ROLE_CLAIM,
    ...(config.SUPABASE_URL ? { url: config.SUPABASE_URL.replace(/\/+$/, '') } : {}),
    ...(config.SUPABASE_ANON_KEY ? { anonKey: config.SUPABASE_ANON_KEY } : {}),
    ...(config.SUPABASE_JWT_SECRET ? { secret: config.SUPABASE_JWT_SECRET } : {}),
  });
}
