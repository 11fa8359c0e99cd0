import { tmpdir } from 'node:os';
import type { Config } from '../config.ts';

/** What the service may fetch when it clones a code repository, and how much of it. */
export interface RepoPolicy {
  /** file:// URLs (this machine's disk); off unless the operator says so. */
  allowFile: boolean;
  /** Exact host names (lower case) a repository may live on; null: any public host. */
  allowedHosts: readonly string[] | null;
  /** Ports an https URL (and so a tunnel) may name. */
  allowedPorts: readonly number[];
  /** The whole clone (fetch and checkout) is killed past this. */
  timeoutMs: number;
  /** Largest clone, on the wire and on disk. */
  maxBytes: number;
  /** Where clones are made (each in a folder of its own). */
  workDir: string;
}

export const DEFAULT_REPO_POLICY: RepoPolicy = {
  allowFile: false,
  allowedHosts: null,
  allowedPorts: [443],
  timeoutMs: 120_000,
  maxBytes: 200 * 1024 * 1024,
  workDir: tmpdir(),
};

export function repoPolicyFromConfig(config: Pick<Config, 'CODE_REPO_ALLOW_FILE' | 'CODE_REPO_ALLOWED_HOSTS'>, overrides: Partial<RepoPolicy> = {}): RepoPolicy {
  const hosts = config.CODE_REPO_ALLOWED_HOSTS?.split(',').map((h) => h.trim().toLowerCase()).filter(Boolean);
  return { ...DEFAULT_REPO_POLICY, allowFile: config.CODE_REPO_ALLOW_FILE, allowedHosts: hosts?.length ? hosts : null, ...overrides };
}
