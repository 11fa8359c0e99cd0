import { lookup as dnsLookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { forbiddenReason } from './forbidden-addresses.ts';

/** Every address a host name resolves to (tests pass their own to play a rebinding DNS). */
export type Lookup = (host: string) => Promise<string[]>;

/** The system resolver, as every connection the service makes would see it (/etc/hosts included). */
export const systemLookup: Lookup = async (host) => (await dnsLookup(host, { all: true, verbatim: true })).map((a) => a.address);

export type Resolved = { ok: true; address: string } | { ok: false; reason: string };

/**
 * The one address to connect to for `host` (a name or an IP literal, without brackets), or why
 * there is none. A name with any forbidden address is refused whole: it has no business pointing
 * into a private network, and refusing it does not depend on which address a client would pick.
 */
export async function resolveHost(host: string, lookup: Lookup = systemLookup, forbidden: (address: string) => string | null = forbiddenReason): Promise<Resolved> {
  if (isIP(host)) {
    const reason = forbidden(host);
    return reason ? { ok: false, reason: `${host} is ${reason}` } : { ok: true, address: host };
  }
  let addresses: string[];
  try {
    addresses = await lookup(host);
  } catch {
    return { ok: false, reason: `${host} does not resolve to an address` };
  }
  if (!addresses.length) return { ok: false, reason: `${host} does not resolve to an address` };
  for (const address of addresses) {
    const reason = forbidden(address);
    if (reason) return { ok: false, reason: `${host} resolves to ${address}, ${reason}` };
  }
  return { ok: true, address: addresses[0]! };
}
