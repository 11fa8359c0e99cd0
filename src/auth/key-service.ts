import type { ApiKeyInfo, ApiKeys, IssuedKey } from './api-keys.ts';
import type { Principal, PrincipalKind } from './principal.ts';
import { requireRole } from './roles.ts';

/**
 * Keys as an org's admins manage them through the API: always in the caller's own org (another
 * org's key id is not found), and only by an admin. The CLI, which runs as the operator, uses
 * ApiKeys directly.
 */
export class KeyService {
  private readonly keys: ApiKeys;

  constructor(keys: ApiKeys) {
    this.keys = keys;
  }

  list(principal: Principal): Promise<ApiKeyInfo[]> {
    requireRole(principal, 'admin', 'Listing keys');
    return this.keys.list(principal.orgId);
  }

  create(principal: Principal, input: { userId: string; kind: PrincipalKind; name?: string }): Promise<IssuedKey> {
    requireRole(principal, 'admin', 'Creating a key');
    return this.keys.create(principal.orgId, input);
  }

  rotate(principal: Principal, id: string): Promise<IssuedKey> {
    requireRole(principal, 'admin', 'Rotating a key');
    return this.keys.rotate(principal.orgId, id);
  }

  revoke(principal: Principal, id: string): Promise<ApiKeyInfo> {
    requireRole(principal, 'admin', 'Revoking a key');
    return this.keys.revoke(principal.orgId, id);
  }
}
