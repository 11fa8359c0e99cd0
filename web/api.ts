/**
 * The page's one way to call the service: same-origin fetch with the tab's API key, if any, as a
 * Bearer header. The key lives in sessionStorage (this tab only) and never in a cookie, so no
 * other site's request can carry it.
 */
const KEY_ITEM = 'constellation.apiKey';

export const apiKey = {
  get: (): string | null => sessionStorage.getItem(KEY_ITEM),
  set: (key: string) => sessionStorage.setItem(KEY_ITEM, key.trim()),
  clear: () => sessionStorage.removeItem(KEY_ITEM),
};

/** The service's error body: { error: { code, message, hint? } }. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly hint?: string,
  ) {
    super(message);
  }
}

export interface Api {
  get<T>(path: string): Promise<T>;
  post<T>(path: string, body?: unknown): Promise<T>;
  del<T>(path: string): Promise<T>;
  /** Headers for a request made elsewhere (the chat transport). */
  headers(): Record<string, string>;
}

export function authHeaders(): Record<string, string> {
  const key = apiKey.get();
  return key ? { authorization: `Bearer ${key}` } : {};
}

async function call<T>(method: string, path: string, body?: unknown): Promise<T> {
  const response = await fetch(path, {
    method,
    headers: { ...authHeaders(), ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  const json = text ? JSON.parse(text) : null;
  if (!response.ok) {
    const error = json?.error ?? {};
    throw new ApiError(response.status, error.code ?? `http_${response.status}`, error.message ?? response.statusText, error.hint);
  }
  return json as T;
}

export const api: Api = {
  get: (path) => call('GET', path),
  post: (path, body) => call('POST', path, body ?? {}),
  del: (path) => call('DELETE', path),
  headers: authHeaders,
};
