import type { Context, MiddlewareHandler } from 'hono';
import { AppError } from '../errors.ts';
import type { AppEnv } from './router.ts';

export interface HostRefusal {
  code: 'forbidden:host' | 'forbidden:origin';
  message: string;
  hint: string;
}

/**
 * DNS-rebinding and cross-origin protection. Until authentication exists every request acts as
 * the one local principal, so a page on another site that reaches this port (a rebound DNS name,
 * or a plain cross-origin POST from the user's browser) must not get through: the Host must be
 * one of ours, and an Origin, when a browser sends one, must be too. Null when the request may pass.
 */
export function hostRefusal(c: Context, allowed: ReadonlySet<string>): HostRefusal | null {
  // In-process requests (app.request, Workers) may carry no Host header: the URL's host is it.
  const host = c.req.header('host') ?? new URL(c.req.url).host;
  const name = hostnameOf(`http://${host}`);
  const hint = 'Call the service by a host name it serves (127.0.0.1 or localhost by default); an operator adds names with ALLOWED_HOSTS.';
  if (!name || !allowed.has(name)) return { code: 'forbidden:host', message: `Host "${host}" is not one this service answers to.`, hint };
  const origin = c.req.header('origin');
  if (origin !== undefined) {
    const originName = hostnameOf(origin);
    if (!originName || !allowed.has(originName)) {
      return { code: 'forbidden:origin', message: `Requests from pages at "${origin}" are not accepted.`, hint };
    }
  }
  return null;
}

/** The set `hostRefusal` takes, from ALLOWED_HOSTS-style names, case-folded. */
export const allowedHostSet = (hosts: readonly string[]): ReadonlySet<string> => new Set(hosts.map((h) => h.toLowerCase()));

/** The check on every route, answered in the service's error shape (403 forbidden:host / forbidden:origin). */
export function originGuard(allowedHosts: readonly string[]): MiddlewareHandler<AppEnv> {
  const allowed = allowedHostSet(allowedHosts);
  return async (c, next) => {
    const refusal = hostRefusal(c, allowed);
    if (refusal) throw new AppError(refusal.code, refusal.message, { hint: refusal.hint });
    await next();
  };
}

function hostnameOf(url: string): string | null {
  try {
    return new URL(url).hostname.toLowerCase();
  } catch {
    return null;
  }
}
