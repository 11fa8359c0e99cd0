import { z } from 'zod';

/**
 * Every setting the service reads from the environment, checked once at start. A bad value stops
 * start-up with a message naming the variable (see `loadConfig`).
 */
/** Host names the service answers to when ALLOWED_HOSTS is not set (HOST is added when it is a name). */
export const DEFAULT_ALLOWED_HOSTS: readonly string[] = ['localhost', '127.0.0.1', '[::1]'];

const flag = z.enum(['true', 'false', '1', '0']).default('false').transform((v) => v === 'true' || v === '1');

const envSchema = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  PORT: z.coerce.number().int().min(0).max(65535).default(8000),
  HOST: z.string().min(1).default('127.0.0.1'),
  DATA_DIR: z.string().min(1).default('.data'),
  DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\//, 'must be a postgres:// or postgresql:// connection string')
    .optional(),
  // Chat turn logs, stop signals and rate-limit counters, shared by every instance; unset: in memory (one instance).
  REDIS_URL: z
    .string()
    .regex(/^rediss?:\/\//, 'must be a redis:// or rediss:// URL, e.g. redis://127.0.0.1:6379')
    .optional(),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /** auto: readable lines when stderr is a terminal, JSON lines otherwise (a file, a pipe, a log collector). */
  LOG_FORMAT: z.enum(['auto', 'json', 'pretty']).default('auto'),
  MAX_BODY_BYTES: z.coerce.number().int().min(1024).default(1024 * 1024),
  DAGSTER_ENVIRONMENTS: z.string().min(1).optional(),
  // Where `npm run dagster` serves; "none" means no Dagster for the default environment.
  DAGSTER_GRAPHQL_URL: z.union([z.url(), z.literal('none')]).default('http://127.0.0.1:3000/graphql'),
  DEPLOY_LEASE_SECONDS: z.coerce.number().int().min(1).max(3600).default(30),
  DEPLOY_WORKERS: z.coerce.number().int().min(0).max(32).default(4),
  OPENAI_API_KEY: z.string().min(1).optional(),
  OPENAI_BASE_URL: z.url().optional(),
  OPENAI_MODEL: z.string().min(1).default('gpt-4.1-mini'),
  CHAT_STEP_LIMIT: z.coerce.number().int().min(1).max(100).default(16),
  CHAT_TURN_TIMEOUT_SECONDS: z.coerce.number().int().min(5).max(3600).default(600),
  CHAT_TURN_LEASE_SECONDS: z.coerce.number().int().min(1).max(3600).default(30),
  // Per user; 0 turns a limit off. Deploys count from every surface; previews do not.
  RATE_LIMIT_CHAT_TURNS_PER_MINUTE: z.coerce.number().int().min(0).default(30),
  RATE_LIMIT_TOOL_CALLS_PER_MINUTE: z.coerce.number().int().min(0).default(300),
  RATE_LIMIT_DEPLOYS_PER_MINUTE: z.coerce.number().int().min(0).default(20),
  // Chat tokens (input + output) per user per UTC day; 0: no budget.
  CHAT_DAILY_TOKEN_BUDGET: z.coerce.number().int().min(0).default(2_000_000),
  // GET /metrics asks for `Authorization: Bearer <METRICS_TOKEN>`; unset, it answers on loopback only.
  METRICS_TOKEN: z.string().min(16, 'must be at least 16 characters (e.g. the output of openssl rand -hex 32)').optional(),
  // On SIGTERM/SIGINT, how long running chat turns may go on before they are ended with a retry error.
  SHUTDOWN_DRAIN_SECONDS: z.coerce.number().int().min(0).max(3600).default(20),
  MCP_READ_ONLY: flag,
  // Each MCP session holds a server in memory: a principal's sessions beyond this close their
  // least recently used one, and a session idle this long is closed (its client re-initializes).
  MCP_MAX_SESSIONS_PER_PRINCIPAL: z.coerce.number().int().min(1).max(1000).default(16),
  MCP_SESSION_IDLE_SECONDS: z.coerce.number().int().min(1).max(86_400).default(600),
  MCP_TOOL_GROUPS: z
    .string()
    .regex(/^(catalog|pipelines|deploy|runs)(,(catalog|pipelines|deploy|runs))*$/, 'a comma-separated list of catalog, pipelines, deploy, runs')
    .optional(),
  // Host names every route answers to (DNS-rebinding protection); HOST is added when it is a name.
  // MCP_ALLOWED_HOSTS is its earlier name, when only /mcp checked; ALLOWED_HOSTS wins when both are set.
  ALLOWED_HOSTS: z.string().optional(),
  MCP_ALLOWED_HOSTS: z.string().optional(),
  // local: a request without credentials acts as the one local user (loopback only); required:
  // API keys and JWTs only. Unset: required when NODE_ENV=production, else local.
  AUTH_MODE: z.enum(['local', 'required']).optional(),
  // Supabase Auth: asymmetric JWTs are checked against SUPABASE_URL's JWKS, legacy HS256 ones
  // with SUPABASE_JWT_SECRET. The claims (dot paths) that name a JWT user's org and role.
  SUPABASE_URL: z.url().optional(),
  SUPABASE_ANON_KEY: z.string().min(1).optional(),
  SUPABASE_JWT_SECRET: z.string().min(16, 'must be the project\'s JWT secret (at least 16 characters)').optional(),
  JWT_ORG_CLAIM: z.string().min(1).default('app_metadata.org_id'),
  JWT_ROLE_CLAIM: z.string().min(1).default('app_metadata.role'),
  // In local mode, listening beyond loopback hands the local user to anyone on the network: it is
  // refused unless the operator says, with this, that they accept it (see listen-policy.ts).
  UNSAFE_ALLOW_REMOTE_WITHOUT_AUTH: flag,
  // Where the stdio entry bridges to when the store is the embedded one; unset, it finds the
  // running service itself (src/service-url.ts).
  MCP_SERVICE_URL: z.url().optional(),
  // The API key the stdio entry acts with: sent to the running service, or verified against the
  // store it opens itself. Unset: the local user (AUTH_MODE=local only).
  CONSTELLATION_API_KEY: z.string().min(1).optional(),
  // Code repositories the service clones (POST /dagster/compile/, src/code-repos): https always;
  // file:// reads this machine's disk, so only an operator may switch it on. The allow-list is exact
  // host names; unset means any public host (private, loopback and link-local addresses never).
  CODE_REPO_ALLOW_FILE: flag,
  CODE_REPO_ALLOWED_HOSTS: z
    .string()
    .regex(/^[a-z0-9.-]+(,[a-z0-9.-]+)*$/i, 'a comma-separated list of host names, e.g. github.com,gitlab.com')
    .optional(),
});

export type Config = Omit<z.infer<typeof envSchema>, 'AUTH_MODE'> & { AUTH_MODE: 'local' | 'required' };

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** Reads and checks the environment; throws a ConfigError naming every bad variable. */
export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  // An empty variable means "not set", as in most shells' `FOO= cmd`.
  const present = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const result = envSchema.safeParse(present);
  if (result.success) return { ...result.data, AUTH_MODE: result.data.AUTH_MODE ?? (result.data.NODE_ENV === 'production' ? 'required' : 'local') };
  const lines = result.error.issues.map((issue) => `  ${issue.path.join('.')}: ${issue.message}`);
  throw new ConfigError(`Invalid environment:\n${lines.join('\n')}`);
}
