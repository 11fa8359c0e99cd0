/**
 * `npm run approve -- <id> [--deny]`: a person's answer to an approval request, through the running
 * service (CONSTELLATION_URL, default http://127.0.0.1:${PORT:-8000}) with the person's own key
 * (CONSTELLATION_API_KEY; none needed in AUTH_MODE=local). `npm run approve -- --list` shows what
 * waits. An agent's key is refused by the service: only a person answers.
 */
import { parseArgs } from 'node:util';

interface Env {
  CONSTELLATION_URL?: string;
  CONSTELLATION_API_KEY?: string;
  PORT?: string;
}

/** Runs one invocation; returns the exit code. `fetcher` and `out` are there for tests. */
export async function approveCli(argv: string[], env: Env, fetcher: typeof fetch = fetch, out: (line: string) => void = (l) => process.stdout.write(`${l}\n`)): Promise<number> {
  const { values, positionals } = parseArgs({ args: argv, allowPositionals: true, options: { deny: { type: 'boolean' }, list: { type: 'boolean' } } });
  const base = (env.CONSTELLATION_URL ?? `http://127.0.0.1:${env.PORT ?? '8000'}`).replace(/\/+$/, '');
  const headers: Record<string, string> = { accept: 'application/json', ...(env.CONSTELLATION_API_KEY ? { authorization: `Bearer ${env.CONSTELLATION_API_KEY}` } : {}) };
  const id = positionals[0];
  if (!values.list && !id) {
    out('usage: npm run approve -- <approval id> [--deny]   |   npm run approve -- --list');
    return 2;
  }
  const res = values.list
    ? await fetcher(`${base}/v1/approvals`, { headers })
    : await fetcher(`${base}/v1/approvals/${encodeURIComponent(id!)}/${values.deny ? 'deny' : 'approve'}`, { method: 'POST', headers: { ...headers, 'content-type': 'application/json' }, body: '{}' });
  const body = (await res.json().catch(() => null)) as Record<string, unknown> | null;
  if (!res.ok) {
    const error = (body?.error ?? {}) as { message?: string; hint?: string };
    out(`refused (${res.status}): ${error.message ?? res.statusText}${error.hint ? `\n${error.hint}` : ''}`);
    return 1;
  }
  if (values.list) {
    const approvals = (body?.approvals ?? []) as Array<{ ref: string; action: string; summary: unknown; expires_at: string }>;
    if (approvals.length === 0) out('Nothing waits for an approval.');
    for (const a of approvals) out(`${a.ref}  ${a.action}  ${JSON.stringify(a.summary)}  (until ${a.expires_at})`);
    return 0;
  }
  out(`${values.deny ? 'Denied' : 'Approved'}: ${String(body?.action)} ${JSON.stringify(body?.summary)}${values.deny ? '' : '. The same call, made again, goes through once.'}`);
  return 0;
}

if (import.meta.main) process.exitCode = await approveCli(process.argv.slice(2), process.env);
