import { AppError } from '../errors.ts';
import type { RepoPolicy } from './repo-policy.ts';
import { resolveHost, type Lookup } from './resolve-host.ts';

/** A repository URL that passed every rule: what git is handed, and what the tunnel may reach. */
export interface CheckedRepoUrl {
  /** The URL as parsed and normalised (what git clones, so that git and we read the same host). */
  href: string;
  scheme: 'https' | 'file';
  /** https only: host name or IP literal (no brackets), and port. */
  host: string;
  port: number;
}

const HINT = 'Give the repository\'s https URL, e.g. https://github.com/acme/blocks.git.';

/** A refusal of `repo_url`, said the same way everywhere (REST 400, a tool's error result). */
export function repoUrlError(problem: string, hint: string = HINT): AppError {
  const message = `repo_url ${problem}.`;
  return new AppError('invalid:repo_url', message, { hint, issues: [{ code: 'repo_url_refused', path: '/repo_url', message, hint }] });
}

/**
 * Checks a repository URL before anything is fetched: the scheme, credentials, the host allow-list,
 * the port, and where the host resolves now. This is the early, readable refusal; the tunnel every
 * https clone goes through checks the address again where it connects (connect-proxy.ts), since a
 * name may resolve differently a second later and a redirect may point anywhere.
 */
export async function checkRepoUrl(raw: unknown, policy: RepoPolicy, lookup?: Lookup): Promise<CheckedRepoUrl> {
  const url = parseRepoUrl(raw, policy);
  if (url.scheme === 'file') return url;
  const resolved = await resolveHost(url.host, lookup);
  if (!resolved.ok) throw repoUrlError(`must name a public host: ${resolved.reason}`, `${HINT} Repositories on private, loopback or link-local addresses are never fetched.`);
  return url;
}

/** The rules that need no network: syntax, scheme, credentials, allow-list, port. */
export function parseRepoUrl(raw: unknown, policy: RepoPolicy): CheckedRepoUrl {
  if (typeof raw !== 'string' || !raw.trim()) throw repoUrlError('is missing; it must be a string');
  const text = raw.trim();
  if (text.length > 2048) throw repoUrlError('is longer than 2048 characters');
  // git's "<transport>::<address>" syntax (ext::sh -c …, fd::3) runs helpers, some of them commands.
  if (/^[a-z0-9+.-]+::/i.test(text)) throw repoUrlError('uses git\'s "transport::address" syntax (ext::, fd::…), which is never allowed');
  // Whitespace and control characters have no place in a URL; a newline in one once leaked
  // credentials through git's line-based credential protocol (CVE-2020-5260).
  if (/[\s\0-\x1f\x7f]/.test(text)) throw repoUrlError('contains whitespace or control characters');
  if (text.startsWith('-')) throw repoUrlError('starts with "-", which git would read as an option');
  if (!text.includes('://') && /^([^/@:]+@)?[^/:]+:/.test(text)) {
    throw repoUrlError(`is an scp-like SSH address ("${truncate(text)}"); SSH is not supported`);
  }
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw repoUrlError(`is not a URL ("${truncate(text)}")`);
  }
  const scheme = url.protocol.slice(0, -1).toLowerCase();
  if (scheme === 'file') {
    if (!policy.allowFile) throw repoUrlError('is a file:// URL, which this service does not clone', `${HINT} (An operator allows file:// with CODE_REPO_ALLOW_FILE=true.)`);
    // (The URL parser already turned file://localhost/… into file:///….)
    if (url.host) throw repoUrlError('is a file:// URL naming a host; a file:// URL names a path on this machine (file:///path)');
    return { href: url.href, scheme: 'file', host: '', port: 0 };
  }
  if (scheme === 'http') throw repoUrlError('uses http://, which is unencrypted', 'Use the https:// URL of the same repository.');
  if (scheme !== 'https') throw repoUrlError(`uses the scheme "${scheme}:", which is not allowed; only https:// is`);
  if (url.username || url.password) {
    throw repoUrlError('carries credentials (user:password@ before the host)', 'Remove them: only public repositories are cloned, and a URL is stored and shown.');
  }
  const host = url.hostname.toLowerCase().replace(/^\[|\]$/g, '');
  if (!host) throw repoUrlError('names no host');
  if (policy.allowedHosts && !policy.allowedHosts.includes(host)) {
    throw repoUrlError(`names the host "${host}", which is not on this service's list of code hosts`, `Use a repository on ${policy.allowedHosts.join(', ')} (CODE_REPO_ALLOWED_HOSTS).`);
  }
  const port = url.port ? Number(url.port) : 443;
  if (!policy.allowedPorts.includes(port)) throw repoUrlError(`names port ${port}; only ${policy.allowedPorts.join(', ')} may be used`, 'Use the URL without a port.');
  return { href: url.href, scheme: 'https', host, port };
}

function truncate(text: string): string {
  return text.length > 80 ? `${text.slice(0, 77)}…` : text;
}
