import { ConfigError, loadConfig, type Config } from '../config.ts';

/** The Worker's bindings: its vars and secrets (strings), the KV's Durable Objects, and Hyperdrive when bound. */
export interface WorkerEnv {
  [name: string]: unknown;
  HYPERDRIVE?: { connectionString: string };
}

export interface WorkerSettings {
  config: Config;
  /** Postgres: Hyperdrive's connection string when bound, else DATABASE_URL. */
  databaseUrl: string;
}

/**
 * The same env schema as the Node server (config.ts), read from the Worker's vars and secrets,
 * with what a Worker cannot do refused by name: no anonymous access (loopback means nothing
 * here), no store but Postgres, no environments file to read.
 */
export function workerSettings(env: WorkerEnv): WorkerSettings {
  const vars = Object.fromEntries(Object.entries(env).filter((entry): entry is [string, string] => typeof entry[1] === 'string'));
  if (vars.AUTH_MODE === 'local') {
    throw new ConfigError('Invalid Worker configuration:\n  AUTH_MODE: "local" is refused on Workers (anyone who reaches the Worker would act as the local user); leave it unset: API keys and JWTs only.');
  }
  if (vars.DAGSTER_ENVIRONMENTS) {
    throw new ConfigError('Invalid Worker configuration:\n  DAGSTER_ENVIRONMENTS: names a file, and a Worker has no disk to read it from; leave it unset (the Worker serves the development environment at DAGSTER_GRAPHQL_URL).');
  }
  const config = loadConfig({ ...vars, AUTH_MODE: 'required' });
  const databaseUrl = env.HYPERDRIVE?.connectionString ?? config.DATABASE_URL;
  if (!databaseUrl) {
    throw new ConfigError('Invalid Worker configuration:\n  DATABASE_URL: not set, and no Hyperdrive binding named HYPERDRIVE; the Worker needs Postgres (`wrangler secret put DATABASE_URL`, or bind Hyperdrive in wrangler.toml).');
  }
  return { config, databaseUrl };
}
