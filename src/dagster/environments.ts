import { readFileSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { fromRoot } from '../source-path.ts';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { AppError } from '../errors.ts';
import { ROLES, type Role } from '../auth/principal.ts';
import { kubernetesSchema, namespaceIssues, targetIssues, toKubernetesTarget, type KubernetesTarget } from './kubernetes/target-config.ts';

/**
 * Where pipelines deploy: per environment a workspace directory (code locations and the
 * workspace.yaml Dagster loads), the Dagster GraphQL URL, which secret names are set there, and
 * a policy. Read once at start from DAGSTER_ENVIRONMENTS (JSON or YAML), else the default
 * development environment.
 */
/** Who may deploy where a policy does not say. */
export const DEFAULT_DEPLOY_ROLES: readonly Role[] = ['deployer', 'admin'];

const policySchema = z
  .object({
    approval_required_for_model_deploys: z.boolean().describe('A deploy started by a model\'s tool call waits for a person'),
    allow_destructive: z.boolean().describe('Tools that delete or terminate are allowed'),
    deploy_roles: z.array(z.enum(ROLES)).min(1).optional().describe(`Which roles may deploy here (default ${DEFAULT_DEPLOY_ROLES.join(', ')})`),
  })
  .strict();

export const DEFAULT_PIPELINES_PER_SHARD = 100;

/**
 * Where an environment's Dagster keeps the values passed between assets (the block library's
 * table_io): Parquet and JSON in a folder, or under an S3 prefix every run worker reaches. Never
 * pickles under DAGSTER_HOME. The keys of an S3 store are its Dagster's AWS_ACCESS_KEY_ID and
 * AWS_SECRET_ACCESS_KEY, never this file.
 */
const tableStorageSchema = z
  .object({
    url: z
      .string()
      .min(1)
      .refine((url) => !/^[a-z][a-z0-9+.-]*:\/\//i.test(url) || /^s3:\/\/[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](\/.*)?$/.test(url), {
        message: 'a folder path, or s3://bucket/prefix',
      })
      .describe('A folder (relative to this file) or s3://bucket/prefix'),
    endpoint: z.url().optional().describe('S3 API URL, required with s3://'),
    region: z.string().min(1).optional(),
  })
  .strict()
  .refine((storage) => !storage.url.startsWith('s3://') || storage.endpoint, { message: 'endpoint is required with an s3:// url', path: ['endpoint'] });

export interface TableStorage {
  /** An absolute folder, or s3://bucket/prefix. */
  url: string;
  endpoint?: string;
  region?: string;
}

/** The environment variables that tell an environment's Dagster processes where its table storage is (see table_io.py). */
export function tableStorageEnv(storage: TableStorage): Record<string, string> {
  return {
    CONSTELLATION_TABLE_STORAGE: storage.url,
    ...(storage.endpoint ? { CONSTELLATION_TABLE_STORAGE_ENDPOINT: storage.endpoint } : {}),
    ...(storage.region ? { CONSTELLATION_TABLE_STORAGE_REGION: storage.region } : {}),
  };
}

/** The ports a gRPC environment's code servers take, one per shard (grpc-ports.ts). */
export const DEFAULT_GRPC_PORTS = { from: 4100, to: 4199 };

const grpcSchema = z
  .object({
    host: z.string().min(1).default('127.0.0.1').describe('Where the code servers listen, and where Dagster reaches them'),
    ports: z
      .object({ from: z.number().int().min(1).max(65535), to: z.number().int().min(1).max(65535) })
      .strict()
      .refine((range) => range.from <= range.to, { message: 'from must not be greater than to' })
      .default(DEFAULT_GRPC_PORTS)
      .describe('The port range the code servers take, one port per shard'),
  })
  .strict();

export interface GrpcServers {
  host: string;
  ports: { from: number; to: number };
}

const environmentSchema = z
  .object({
    workspace_dir: z.string().min(1),
    graphql_url: z.url().nullable().default(null).describe('Dagster webserver GraphQL endpoint; null: write locations only'),
    // The secret names its pipelines may use (set where its Dagster runs). "inherit": the names the
    // built-in block types declare, each counted as set when this service's own environment has it
    // (a local Dagster started from the same shell sees the same variables); see allowedSecrets.
    secrets: z.union([z.array(z.string().regex(/^[A-Z][A-Z0-9_]*$/)), z.literal('inherit')]).default('inherit'),
    python: z.string().min(1).optional().describe('Python that runs the code locations; default: the project virtualenv'),
    // Bounded shards keep a reload short (DAGSTER.md measures 100 at 3-4 s, 500 at 13-17 s).
    pipelines_per_shard: z.number().int().min(1).default(DEFAULT_PIPELINES_PER_SHARD).describe('Pipelines per shared code location (per org)'),
    policy: policySchema.partial().default({}),
    table_storage: tableStorageSchema.optional().describe('Where values pass between assets; default: a folder under DATA_DIR'),
    // gRPC code servers (issue 18): each shard served by its own `dagster code-server` process,
    // named in workspace.yaml by host and port, as Dagster runs user code at scale.
    code_servers: z.enum(['files', 'grpc']).default('files').describe('How Dagster loads the shards: from their files, or from one gRPC code server each'),
    grpc: grpcSchema.optional().describe('Host and port range of the code servers (code_servers: grpc)'),
    // Kubernetes (issue 18): deploy writes the images and manifests a cluster's Dagster runs
    // (src/dagster/kubernetes/), and applies nothing.
    target: z.enum(['local', 'kubernetes']).default('local').describe('Where its Dagster runs: on this machine, or on Kubernetes'),
    kubernetes: kubernetesSchema.optional().describe('Namespace, images and secret of the code servers (target: kubernetes)'),
  })
  .strict()
  .refine((env) => !env.grpc || env.code_servers === 'grpc', {
    message: 'grpc is used only with code_servers: grpc; set code_servers: grpc, or remove grpc',
    path: ['grpc'],
  })
  .superRefine((env, ctx) => {
    for (const issue of targetIssues(env)) ctx.addIssue({ code: 'custom', ...issue });
  });

const fileSchema = z
  .object({ environments: z.record(z.string().regex(/^[a-z][a-z0-9_-]*$/), environmentSchema) })
  .strict()
  .superRefine((file, ctx) => {
    for (const issue of namespaceIssues(file.environments)) ctx.addIssue({ code: 'custom', ...issue });
  });

export interface Environment {
  name: string;
  workspaceDir: string;
  graphqlUrl: string | null;
  secrets: string[] | 'inherit';
  python: string;
  /** How many pipelines one of an org's shard locations holds; unset: DEFAULT_PIPELINES_PER_SHARD. */
  pipelinesPerShard?: number;
  policy: z.infer<typeof policySchema>;
  /** Where its Dagster passes values between assets; unset: that Dagster's own default (table_io.py). */
  tableStorage?: TableStorage;
  /** How Dagster loads its shards; unset: 'files'. */
  codeServers?: 'files' | 'grpc';
  /** Where its code servers listen, with code_servers grpc. */
  grpc?: GrpcServers;
  /** Set when its Dagster runs on Kubernetes (target: kubernetes): deploy writes images and manifests for it (src/dagster/kubernetes/). */
  kubernetes?: KubernetesTarget;
}

export const DEFAULT_PYTHON = fromRoot('.venv/bin/python');

function toEnvironment(name: string, raw: z.infer<typeof environmentSchema>, baseDir: string, dataDir: string): Environment {
  const storage = raw.table_storage;
  return {
    name,
    workspaceDir: isAbsolute(raw.workspace_dir) ? raw.workspace_dir : resolve(baseDir, raw.workspace_dir),
    graphqlUrl: raw.graphql_url,
    secrets: raw.secrets,
    python: raw.python ?? DEFAULT_PYTHON,
    pipelinesPerShard: raw.pipelines_per_shard,
    policy: {
      // Production asks a person before a model deploys, unless the file says otherwise.
      approval_required_for_model_deploys: raw.policy.approval_required_for_model_deploys ?? name === 'production',
      allow_destructive: raw.policy.allow_destructive ?? name !== 'production',
      deploy_roles: raw.policy.deploy_roles ?? [...DEFAULT_DEPLOY_ROLES],
    },
    tableStorage: !storage
      ? { url: resolve(dataDir, 'table-data', name) }
      : storage.url.startsWith('s3://')
        ? { url: storage.url, ...(storage.endpoint ? { endpoint: storage.endpoint } : {}), ...(storage.region ? { region: storage.region } : {}) }
        : { url: isAbsolute(storage.url) ? storage.url : resolve(baseDir, storage.url) },
    codeServers: raw.code_servers,
    ...(raw.code_servers === 'grpc' ? { grpc: raw.grpc ?? grpcSchema.parse({}) } : {}),
    ...(raw.target === 'kubernetes' && raw.kubernetes ? { kubernetes: toKubernetesTarget(raw.kubernetes) } : {}),
  };
}

export interface EnvironmentOptions {
  file?: string;
  dataDir: string;
  /** GraphQL URL of the default development environment; empty: none. */
  defaultGraphqlUrl: string;
}

/** The one environment a service without DAGSTER_ENVIRONMENTS has. */
export const DEFAULT_ENVIRONMENT = 'development';

export function loadEnvironments(opts: EnvironmentOptions): Map<string, Environment> {
  if (!opts.file) {
    const dev = toEnvironment(
      DEFAULT_ENVIRONMENT,
      environmentSchema.parse({ workspace_dir: join(opts.dataDir, 'workspaces', DEFAULT_ENVIRONMENT), graphql_url: opts.defaultGraphqlUrl || null }),
      process.cwd(),
      opts.dataDir,
    );
    return new Map([[DEFAULT_ENVIRONMENT, dev]]);
  }
  let raw: unknown;
  try {
    raw = parseYaml(readFileSync(opts.file, 'utf8'));
  } catch (error) {
    throw new AppError('invalid:config', `DAGSTER_ENVIRONMENTS: cannot read ${opts.file}: ${(error as Error).message}`);
  }
  const parsed = fileSchema.safeParse(raw);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  /${i.path.join('/')}: ${i.message}`);
    throw new AppError('invalid:config', `DAGSTER_ENVIRONMENTS: ${opts.file} is invalid:\n${lines.join('\n')}`);
  }
  const baseDir = resolve(opts.file, '..');
  return new Map(Object.entries(parsed.data.environments).map(([name, env]) => [name, toEnvironment(name, env, baseDir, opts.dataDir)]));
}

/** Which of `names` the environment lacks. */
export function missingSecrets(env: Environment, names: string[], processEnv: Record<string, string | undefined> = process.env): string[] {
  const has = (name: string) => (env.secrets === 'inherit' ? !!processEnv[name] : env.secrets.includes(name));
  return [...new Set(names)].filter((name) => !has(name));
}
