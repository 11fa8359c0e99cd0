import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.ts';
import { AppError } from '../../src/errors.ts';
import { checkRepoUrl } from '../../src/code-repos/check-repo-url.ts';
import { DEFAULT_REPO_POLICY, repoPolicyFromConfig } from '../../src/code-repos/repo-policy.ts';

const policy = DEFAULT_REPO_POLICY;

/** The refusal checkRepoUrl throws, which must be ours and name the field. */
async function refusal(raw: unknown, p = policy): Promise<AppError> {
  const error = await checkRepoUrl(raw, p).then(() => null, (e: unknown) => e);
  expect(error).toBeInstanceOf(AppError);
  const appError = error as AppError;
  expect(appError.code).toBe('invalid:repo_url');
  expect(appError.status).toBe(400);
  expect(appError.message).toMatch(/^repo_url /);
  expect(appError.hint).toBeTruthy();
  expect(appError.issues[0]).toMatchObject({ path: '/repo_url' });
  return appError;
}

describe('checkRepoUrl', () => {
  // Each of these would be fetched without the check: a public-looking https URL to our own network.
  it.each([
    ['https://127.0.0.1/acme/blocks.git', /127\.0\.0\.1 is a loopback address/],
    ['https://localhost/acme/blocks.git', /localhost resolves to 127\.0\.0\.1, a loopback address/],
    ['https://10.0.0.5/acme/blocks.git', /10\.0\.0\.5 is a private-network address/],
    ['https://192.168.1.1/acme/blocks.git', /192\.168\.1\.1 is a private-network address/],
    ['https://169.254.169.254/latest/meta-data', /169\.254\.169\.254 is a link-local address \(the cloud metadata service/],
    ['https://[::1]/acme/blocks.git', /::1 is a loopback address/],
    ['https://[fe80::1]/acme/blocks.git', /fe80::1 is a link-local address/],
    ['https://[::ffff:127.0.0.1]/acme/blocks.git', /loopback address/],
    // The URL parser reads these spellings as 127.0.0.1, and so would curl.
    ['https://2130706433/acme/blocks.git', /127\.0\.0\.1 is a loopback address/],
    ['https://0x7f.1/acme/blocks.git', /127\.0\.0\.1 is a loopback address/],
  ])('refuses %s, a host on our own network', async (url, reason) => {
    const error = await refusal(url);
    expect(error.message).toMatch(/must name a public host/);
    expect(error.message).toMatch(reason);
  });

  it.each([
    ['http://github.com/acme/blocks.git', /uses http:\/\/, which is unencrypted/],
    ['ssh://git@github.com/acme/blocks.git', /scheme "ssh:"/],
    ['git://github.com/acme/blocks.git', /scheme "git:"/],
    ['ext::sh -c touch% /tmp/pwned', /"transport::address" syntax/],
    ['ext::sh', /"transport::address" syntax/],
    ['fd::3', /"transport::address" syntax/],
    ['git@github.com:acme/blocks.git', /scp-like SSH address/],
    ['file:///srv/repos/blocks.git', /file:\/\/ URL, which this service does not clone/],
    ['https://user:token@github.com/acme/blocks.git', /carries credentials/],
    ['https://github.com:8443/acme/blocks.git', /port 8443/],
    ['-uhttps://github.com/acme/blocks.git', /starts with "-"/],
    ['not a url', /whitespace/],
    ['', /is missing/],
    [42, /is missing/],
  ])('refuses %s', async (url, reason) => {
    expect((await refusal(url)).message).toMatch(reason);
  });

  it('says how to allow file:// when it refuses one', async () => {
    expect((await refusal('file:///srv/repos/blocks.git')).hint).toMatch(/CODE_REPO_ALLOW_FILE=true/);
  });

  it('takes a file:// URL when the operator allows it, but not one naming another machine', async () => {
    const allowing = repoPolicyFromConfig(loadConfig({ CODE_REPO_ALLOW_FILE: 'true' }));
    await expect(checkRepoUrl('file:///srv/repos/blocks.git', allowing)).resolves.toMatchObject({ scheme: 'file', href: 'file:///srv/repos/blocks.git' });
    expect((await refusal('file://fileserver/srv/blocks.git', allowing)).message).toMatch(/file:\/\/ URL naming a host/);
  });

  it('takes an https URL on a public address', async () => {
    await expect(checkRepoUrl('https://140.82.112.3/acme/blocks.git', policy)).resolves.toMatchObject({ scheme: 'https', host: '140.82.112.3', port: 443 });
  });

  it('refuses hosts outside a configured allow-list, naming the list', async () => {
    const listed = repoPolicyFromConfig(loadConfig({ CODE_REPO_ALLOWED_HOSTS: 'github.com,GitLab.com' }));
    expect(listed.allowedHosts).toEqual(['github.com', 'gitlab.com']);
    const error = await refusal('https://140.82.112.3/acme/blocks.git', listed);
    expect(error.message).toMatch(/"140\.82\.112\.3", which is not on this service's list of code hosts/);
    expect(error.hint).toMatch(/github\.com, gitlab\.com \(CODE_REPO_ALLOWED_HOSTS\)/);
  });
});

describe('the code repository config', () => {
  it('allows no file:// and any public host by default', () => {
    expect(repoPolicyFromConfig(loadConfig({}))).toMatchObject({ allowFile: false, allowedHosts: null, allowedPorts: [443] });
  });

  it('names the variable when the allow-list is not a list of host names', () => {
    expect(() => loadConfig({ CODE_REPO_ALLOWED_HOSTS: 'https://github.com' })).toThrow(/CODE_REPO_ALLOWED_HOSTS: a comma-separated list of host names/);
  });
});
