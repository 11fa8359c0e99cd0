import { BlockList, isIP } from 'node:net';

/**
 * Addresses a cloned repository may never be fetched from: anything that is not a public unicast
 * address, since the service's own network (loopback, the VPC, the cloud metadata service) is
 * what an attacker would aim a repository URL at. An explicit table (IANA's special-purpose
 * registries) in node:net BlockLists, one per reason so a refusal can say which; BlockList matches
 * an IPv4-mapped IPv6 address (::ffff:127.0.0.1) against the IPv4 rules itself.
 */
const TABLE: Array<[reason: string, cidrs: string[]]> = [
  ['a loopback address', ['127.0.0.0/8', '::1/128']],
  ['a private-network address', ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', '100.64.0.0/10', 'fc00::/7', 'fec0::/10']],
  ['a link-local address (the cloud metadata service at 169.254.169.254 is one)', ['169.254.0.0/16', 'fe80::/10']],
  ['an unspecified address', ['0.0.0.0/8', '::/128']],
  ['a multicast address', ['224.0.0.0/4', 'ff00::/8']],
  [
    'a reserved or special-purpose address',
    [
      '192.0.0.0/24', '192.0.2.0/24', '192.88.99.0/24', '198.18.0.0/15', '198.51.100.0/24', '203.0.113.0/24', '240.0.0.0/4',
      // IPv4-compatible (deprecated), discard-only, IETF protocol assignments (Teredo among them),
      // documentation, and local-use NAT64.
      '::/96', '100::/64', '2001::/23', '2001:db8::/32', '3fff::/20', '64:ff9b:1::/48',
      // Everything outside global unicast (2000::/3) that the rows above do not already name.
      '4000::/2', '8000::/2', 'c000::/3', 'e000::/4', 'f000::/5', 'f800::/6',
    ],
  ],
];

const LISTS = TABLE.map(([reason, cidrs]) => {
  const list = new BlockList();
  for (const cidr of cidrs) {
    const [net, bits] = cidr.split('/') as [string, string];
    list.addSubnet(net, Number(bits), isIP(net) === 6 ? 'ipv6' : 'ipv4');
  }
  return { reason, list };
});

/** IPv6 forms that carry an IPv4 address inside them: well-known NAT64 and 6to4. */
function embeddedIPv4(address: string): string | null {
  const lower = address.toLowerCase();
  const dotted = /^64:ff9b::(\d+\.\d+\.\d+\.\d+)$/.exec(lower);
  if (dotted) return dotted[1]!;
  const nat64 = /^64:ff9b::([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(lower);
  if (nat64) return hexPairToIPv4(nat64[1]!, nat64[2]!);
  const sixToFour = /^2002:([0-9a-f]{1,4}):([0-9a-f]{1,4})(:|$)/.exec(lower);
  if (sixToFour) return hexPairToIPv4(sixToFour[1]!, sixToFour[2]!);
  return null;
}

function hexPairToIPv4(high: string, low: string): string {
  const h = parseInt(high, 16);
  const l = parseInt(low, 16);
  return [h >> 8, h & 255, l >> 8, l & 255].join('.');
}

/**
 * Why `address` (an IP literal, no brackets) may not be connected to, or null when it may. Not an
 * IP address at all is refused too: callers resolve names first and check what they got.
 */
export function forbiddenReason(address: string): string | null {
  const family = isIP(address);
  if (family === 0) return 'not an IP address';
  const inner = family === 6 ? embeddedIPv4(address) : null;
  if (inner) {
    const reason = forbiddenReason(inner);
    return reason ? `${reason} (${inner}, inside an IPv6 address)` : null;
  }
  const type = family === 4 ? 'ipv4' : 'ipv6';
  return LISTS.find(({ list }) => list.check(address, type))?.reason ?? null;
}
