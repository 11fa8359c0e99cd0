import { createLogger } from '../logger.ts';
import { AuditLog } from '../auth/audit-log.ts';
import { parseArgs } from 'node:util';
import type { ApiKeyInfo, IssuedKey } from '../auth/api-keys.ts';
import { ApiKeys } from '../auth/api-keys.ts';
import { OperatorKeys, type KeyOperations } from '../auth/key-service.ts';
import { readRunningService } from '../auth/operator.ts';
import { ROLES, type Role } from '../auth/principal.ts';
import { openDb } from '../adapters/store/open-db.ts';
import { loadConfig } from '../config.ts';
import { AppError } from '../errors.ts';
import { HttpOperatorKeys } from './http-operator-keys.ts';

export const USAGE = `Usage:
  npm run key -- create --org <org> --user <user> [--role viewer|editor|deployer|admin] [--kind person|agent] [--name <name>]
  npm run key -- list --org <org>
  npm run key -- rotate <key-id>
  npm run key -- revoke <key-id>
The org and user are made when new (a new org's first user is its admin unless --role says otherwise).`;

export interface Io {
  out(line: string): void;
  err(line: string): void;
}

type Command =
  | { name: 'create'; org: string; user: string; role?: Role; kind: 'person' | 'agent'; keyName?: string }
  | { name: 'list'; org: string }
  | { name: 'rotate' | 'revoke'; id: string };

class UsageError extends Error {}

/** The command line as a command, or a UsageError naming what is wrong. */
export function parseCommand(argv: string[]): Command {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      strict: true,
      options: { org: { type: 'string' }, user: { type: 'string' }, role: { type: 'string' }, kind: { type: 'string' }, name: { type: 'string' } },
    });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const { values, positionals } = parsed;
  const [name, ...rest] = positionals;
  const need = (flag: 'org' | 'user') => {
    const value = values[flag];
    if (!value) throw new UsageError(`${name} needs --${flag} <${flag}>.`);
    return value;
  };
  const onlyFlags = (allowed: string[]) => {
    const extra = Object.keys(values).find((k) => !allowed.includes(k));
    if (extra) throw new UsageError(`${name} takes no --${extra}.`);
    if (rest.length) throw new UsageError(`${name} takes no argument "${rest[0]}".`);
  };
  switch (name) {
    case 'create': {
      onlyFlags(['org', 'user', 'role', 'kind', 'name']);
      const role = values.role;
      if (role !== undefined && !(ROLES as readonly string[]).includes(role)) throw new UsageError(`--role must be one of ${ROLES.join(', ')}, not "${role}".`);
      const kind = values.kind ?? 'person';
      if (kind !== 'person' && kind !== 'agent') throw new UsageError(`--kind must be person or agent, not "${kind}".`);
      return { name, org: need('org'), user: need('user'), kind, ...(role ? { role: role as Role } : {}), ...(values.name ? { keyName: values.name } : {}) };
    }
    case 'list':
      onlyFlags(['org']);
      return { name, org: need('org') };
    case 'rotate':
    case 'revoke': {
      if (Object.keys(values).length) throw new UsageError(`${name} takes only the key id, not --${Object.keys(values)[0]}.`);
      if (rest.length !== 1 || !/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(rest[0]!)) throw new UsageError(`${name} needs one <key-id> (a UUID, as list shows it).`);
      return { name, id: rest[0]! };
    }
    default:
      throw new UsageError(name ? `Unknown command "${name}".` : 'Which command: create, list, rotate or revoke?');
  }
}

/**
 * Where the keys live: Postgres (DATABASE_URL) is opened directly; the embedded store goes through
 * the service when one holds it (DATA_DIR/service.json), else is opened here.
 */
async function connect(env: Record<string, string | undefined>): Promise<{ ops: KeyOperations; via: string; close: () => Promise<void> }> {
  const config = loadConfig(env);
  if (!config.DATABASE_URL) {
    const running = readRunningService(config.DATA_DIR);
    if (running) return { ops: new HttpOperatorKeys(running.url, running.token), via: `the running service at ${running.url}`, close: async () => undefined };
  }
  const db = await openDb({ ...(config.DATABASE_URL ? { databaseUrl: config.DATABASE_URL } : {}), dataDir: config.DATA_DIR });
  return { ops: new OperatorKeys(new ApiKeys(db), new AuditLog(db, createLogger('silent'))), via: db.kind === 'pglite' ? `the store in ${config.DATA_DIR}` : 'Postgres', close: () => db.close() };
}

/** Runs one command; the exit code: 0 done, 1 refused or failed, 2 bad arguments. */
export async function runKeyCommand(argv: string[], env: Record<string, string | undefined>, io: Io): Promise<number> {
  let command: Command;
  try {
    command = parseCommand(argv);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    io.err(`${error.message}\n${USAGE}`);
    return 2;
  }
  let connection;
  try {
    connection = await connect(env);
    await execute(command, connection.ops, io);
    return 0;
  } catch (error) {
    if (error instanceof AppError) io.err(`${error.message}${error.hint ? `\n${error.hint}` : ''}`);
    else io.err(`Failed: ${(error as Error).message}`);
    return 1;
  } finally {
    await connection?.close();
  }
}

async function execute(command: Command, ops: KeyOperations, io: Io): Promise<void> {
  switch (command.name) {
    case 'create': {
      const issued = await ops.create({ org: command.org, user: command.user, kind: command.kind, ...(command.role ? { role: command.role } : {}), ...(command.keyName ? { name: command.keyName } : {}) });
      if (issued.org_created) io.out(`Created org "${command.org}" (${issued.org_id}).`);
      if (issued.user_created) io.out(`Created user "${command.user}" (${issued.user_id}) with role ${issued.role}.`);
      showIssued(issued, io);
      return;
    }
    case 'list': {
      const keys = await ops.list(command.org);
      if (keys.length === 0) io.out(`No keys in "${command.org}".`);
      for (const k of keys) io.out(describe(k));
      return;
    }
    case 'rotate':
      showIssued(await ops.rotate(command.id), io);
      return;
    case 'revoke':
      io.out(`Revoked ${describe(await ops.revoke(command.id))}`);
  }
}

function showIssued(issued: IssuedKey, io: Io): void {
  io.out(`Key ${issued.id} "${issued.name}" for ${issued.user_name} (${issued.kind}, role ${issued.role}):`);
  io.out(`  ${issued.key}`);
  io.out('This key will not be shown again: store it now (send it as Authorization: Bearer <key>).');
}

const describe = (k: ApiKeyInfo) =>
  `${k.id}  ${k.prefix}…  ${k.kind}  ${k.user_name} (${k.role})  "${k.name}"  ${k.revoked_at ? `revoked ${iso(k.revoked_at)}` : `last used ${k.last_used_at ? iso(k.last_used_at) : 'never'}`}`;

const iso = (d: Date | string) => new Date(d).toISOString();
