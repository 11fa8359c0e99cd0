import type { AuditLog } from './audit-log.ts';
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
  private readonly audit: AuditLog;

  constructor(keys: ApiKeys, audit: AuditLog) {
    this.keys = keys;
    this.audit = audit;
  }

  async create(input: Parameters<KeyOperations['create']>[0]) {
    const issued = await this.keys.createForIdentity(input);
    await this.record(issued.org_id, issued.user_id, 'key.create', { key_id: issued.id, user_id: issued.user_id, kind: issued.kind, role: issued.role });
    return issued;
  }

  async list(org: string): Promise<ApiKeyInfo[]> {
    const found = await this.keys.findOrg(org);
    if (!found) throw new AppError('not_found:org', `No org named "${org}" exists.`, { hint: 'Create its first key with: npm run key -- create --org <org> --user <user>.' });
    return this.keys.list(found.id);
  }

  async rotate(id: string): Promise<IssuedKey> {
    const orgId = await this.keys.orgOfKey(id);
    const issued = await this.keys.rotate(orgId, id);
    await this.record(orgId, issued.user_id, 'key.rotate', { key_id: id, new_key_id: issued.id });
    return issued;
  }

  async revoke(id: string): Promise<ApiKeyInfo> {
    const orgId = await this.keys.orgOfKey(id);
    const info = await this.keys.revoke(orgId, id);
    await this.record(orgId, info.user_id, 'key.revoke', { key_id: id });
    return info;
  }

  /** The operator is no user of the org: the entry names the key's user, through the CLI. */
  private record(orgId: string, userId: string, action: string, target: Record<string, unknown>) {
    return this.audit.record({ principal: { orgId, userId, role: 'admin', kind: 'person' }, actor: 'person', surface: 'cli', action, target, outcome: 'ok', provenance: { operator: true } });
  }
}
