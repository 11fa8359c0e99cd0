import { describe, expect, it } from 'vitest';
import { forbiddenReason } from '../../src/code-repos/forbidden-addresses.ts';

describe('forbiddenReason', () => {
  it.each([
    ['127.0.0.1', 'loopback'], ['127.255.0.9', 'loopback'], ['::1', 'loopback'],
    ['10.0.0.5', 'private'], ['172.16.0.1', 'private'], ['172.31.255.255', 'private'], ['192.168.1.1', 'private'], ['100.64.0.1', 'private'], ['fd00::1', 'private'],
    ['169.254.169.254', 'link-local'], ['fe80::1', 'link-local'],
    ['0.0.0.0', 'unspecified'], ['::', 'unspecified'],
    ['224.0.0.1', 'multicast'], ['ff02::1', 'multicast'],
    ['255.255.255.255', 'reserved'], ['198.18.0.1', 'reserved'], ['2001:db8::1', 'reserved'],
    // IPv4 inside IPv6: mapped (either spelling), NAT64 and 6to4 carrying a private address.
    ['::ffff:127.0.0.1', 'loopback'], ['::ffff:7f00:1', 'loopback'], ['::ffff:169.254.169.254', 'link-local'],
    ['64:ff9b::10.0.0.1', 'private'], ['64:ff9b::a9fe:a9fe', 'link-local'], ['2002:c0a8:0101::1', 'private'],
  ])('refuses %s (%s)', (address, kind) => {
    expect(forbiddenReason(address)).toMatch(new RegExp(kind));
  });

  it.each(['140.82.112.3', '8.8.8.8', '172.32.0.1', '2606:4700::1111', '::ffff:8.8.8.8', '64:ff9b::808:808', '2002:0808:0808::1'])('lets %s through', (address) => {
    expect(forbiddenReason(address)).toBeNull();
  });

  it('refuses what is not an IP address at all', () => {
    expect(forbiddenReason('github.com')).toBe('not an IP address');
  });
});
