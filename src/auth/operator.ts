import { randomBytes } from 'node:crypto';
import { sameSecret } from './same-secret.ts';
import { chmodSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * The embedded PGlite store belongs to one process. While the service holds it, the service leaves
 * where it listens (service.json) and a fresh operator token (operator.token, readable only by its
 * owner) in DATA_DIR, so the keys CLI run on the same machine, by the same account, goes through
 * the service instead of opening the store a second time.
 */
const SERVICE_FILE = 'service.json';
const TOKEN_FILE = 'operator.token';

export interface RunningService {
  pid: number;
  url: string;
  token: string;
}

/** A new operator token: 256 random bits. */
export const newOperatorToken = () => randomBytes(32).toString('base64url');

/** Writes service.json and the operator token; returns a remover for a clean stop. */
export function writeServiceFiles(dataDir: string, url: string, token: string): { token: string; remove: () => void } {
  const tokenPath = join(dataDir, TOKEN_FILE);
  writeFileSync(tokenPath, `${token}\n`, { mode: 0o600 });
  // writeFileSync's mode applies only to a new file: a left-over one keeps its own.
  chmodSync(tokenPath, 0o600);
  writeFileSync(join(dataDir, SERVICE_FILE), `${JSON.stringify({ pid: process.pid, url })}\n`);
  return { token, remove: () => removeServiceFiles(dataDir) };
}

export function removeServiceFiles(dataDir: string): void {
  rmSync(join(dataDir, SERVICE_FILE), { force: true });
  rmSync(join(dataDir, TOKEN_FILE), { force: true });
}

/** The service that holds DATA_DIR's store, if service.json names a live process; else null. */
export function readRunningService(dataDir: string): RunningService | null {
  let file: { pid?: unknown; url?: unknown };
  let token: string;
  try {
    file = JSON.parse(readFileSync(join(dataDir, SERVICE_FILE), 'utf8'));
    token = readFileSync(join(dataDir, TOKEN_FILE), 'utf8').trim();
  } catch {
    return null;
  }
  if (typeof file.pid !== 'number' || typeof file.url !== 'string' || !token || !isAlive(file.pid)) return null;
  return { pid: file.pid, url: file.url, token };
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists, owned by someone else.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** `Authorization: Operator <token>` checked in constant time. */
export function isOperatorToken(authorization: string | undefined, token: string): boolean {
  const match = /^Operator\s+(\S+)\s*$/.exec(authorization ?? '');
  return match ? sameSecret(match[1]!, token) : false;
}
