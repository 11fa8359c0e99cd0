import { AppError } from '../errors.ts';
import type { ApiKeyInfo, ApiKeys, IssuedKey } from './api-keys.ts';
import type { Principal, PrincipalKind, Role } from './principal.ts';
import { requireRole } from './roles.ts';

/** Who a request is, as GET /v1/me shows it. */
export interface Me {
  user_id: string;
  user_name: string | null;
  org_id: string;
  org_name: string | null;
  role: Role;
  kind: PrincipalKind;
  key_id: string | null;
}

/**
 * Managing an org's keys, as its admins do over REST: every operation needs the admin role, and
 * only the caller's own org's keys exist for it (another org's key id is as unknown as a made-up one).
 */
export class KeyService {
  private readonly keys: ApiKeys;

  constructor(keys: ApiKeys) {
    this.keys = keys;
  }

  async create(principal: Principal, input: { user_id: string; kind: PrincipalKind; name?: string | undefined }): Promise<IssuedKey> {
    requireRole(principal, 'admin', 'Creating API keys');
    return this.keys.create(principal.orgId, { userId: input.user_id, kind: input.kind, ...(input.name ? { name: input.name } : {}) });
  }

  async list(principal: Principal): Promise<ApiKeyInfo[]> {
    requireRole(principal, 'admin', 'Listing API keys');
    return this.keys.list(principal.orgId);
  }

  async rotate(principal: Principal, id: string): Promise<IssuedKey> {
    requireRole(principal, 'admin', 'Rotating API keys');
    return this.keys.rotate(principal.orgId, id);
  }

  async revoke(principal: Principal, id: string): Promise<ApiKeyInfo> {
    requireRole(principal, 'admin', 'Revoking API keys');
    return this.keys.revoke(principal.orgId, id);
  }

  /** Anyone may ask who they are. */
  async me(principal: Principal): Promise<Me> {
    const names = await this.keys.describe(principal);
    return {
      user_id: principal.userId,
      user_name: names.user_name,
      org_id: principal.orgId,
      org_name: names.org_name,
      role: principal.role ?? 'admin',
      kind: principal.kind ?? 'person',
      key_id: principal.keyId ?? null,
    };
  }
}

/** What the keys CLI asks for; served by OperatorKeys in-process, or by the running service's operator routes. */
export interface KeyOperations {
  create(input: { org: string; user: string; role?: Role; kind: PrincipalKind; name?: string }): Promise<IssuedKey & { org_id: string; org_created: boolean; user_created: boolean }>;
  list(org: string): Promise<ApiKeyInfo[]>;
  rotate(id: string): Promise<IssuedKey>;
  revoke(id: string): Promise<ApiKeyInfo>;
}

/**
 * The operator's key management (whoever holds the machine: the CLI, or the service's operator
 * token): any org, named by name, slug or id, and orgs and users made when new.
 */
export class OperatorKeys implements KeyOperations {
  private readonly keys: ApiKeys;

  constructor(keys: ApiKeys) {
    this.keys = keys;
  }

  create(input: Parameters<KeyOperations['create']>[0]) {
    return this.keys.createForIdentity(input);
  }

  async list(org: string): Promise<ApiKeyInfo[]> {
    const found = await this.keys.findOrg(org);
    if (!found) throw new AppError('not_found:org', `No org named "${org}" exists.`, { hint: 'Create its first key with: npm run key -- create --org <org> --user <user>.' });
    return this.keys.list(found.id);
  }

  async rotate(id: string): Promise<IssuedKey> {
    return this.keys.rotate(await this.keys.orgOfKey(id), id);
  }

  async revoke(id: string): Promise<ApiKeyInfo> {
    return this.keys.revoke(await this.keys.orgOfKey(id), id);
  }
}
