import type { ApiKeyInfo, IssuedKey } from '../auth/api-keys.ts';
import type { KeyOperations } from '../auth/key-service.ts';
import { AppError, type ErrorKind } from '../errors.ts';

/** The keys CLI's operations carried out by the running service, on its operator routes. */
export class HttpOperatorKeys implements KeyOperations {
  private readonly base: string;
  private readonly token: string;

  constructor(base: string, token: string) {
    this.base = base.replace(/\/+$/, '');
    this.token = token;
  }

  create(input: Parameters<KeyOperations['create']>[0]) {
    return this.call<Awaited<ReturnType<KeyOperations['create']>>>('POST', '/v1/operator/keys', input);
  }

  async list(org: string): Promise<ApiKeyInfo[]> {
    return (await this.call<{ api_keys: ApiKeyInfo[] }>('GET', `/v1/operator/keys?org=${encodeURIComponent(org)}`)).api_keys;
  }

  rotate(id: string): Promise<IssuedKey> {
    return this.call('POST', `/v1/operator/keys/${encodeURIComponent(id)}/rotate`, {});
  }

  revoke(id: string): Promise<ApiKeyInfo> {
    return this.call('DELETE', `/v1/operator/keys/${encodeURIComponent(id)}`);
  }

  private async call<T>(method: string, path: string, body?: unknown): Promise<T> {
    let res: Response;
    try {
      res = await fetch(this.base + path, {
        method,
        headers: { authorization: `Operator ${this.token}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      });
    } catch (error) {
      throw new AppError('unavailable:service', `The service that holds the store (${this.base}) did not answer: ${(error as Error).message}.`, {
        hint: 'Its DATA_DIR/service.json names a live process: wait for it to start, or stop it and run the command again.',
      });
    }
    const answer = (await res.json().catch(() => null)) as { error?: { code: string; message: string; hint?: string } } | null;
    if (!res.ok) {
      const e = answer?.error;
      const code = (e?.code ?? 'internal') as ErrorKind;
      throw new AppError(code, e?.message ?? `The service answered ${res.status}.`, e?.hint ? { hint: e.hint } : {});
    }
    return answer as T;
  }
}
