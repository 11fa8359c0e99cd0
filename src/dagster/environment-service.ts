import type { DagsterConnections } from './dagster-connections.ts';
import type { Environment } from './environments.ts';
import { deployNeedsApproval, type Caller } from './policy.ts';
import { allowedSecrets } from './required-secrets.ts';

/** An environment as every surface shows it: secret names only, never values. */
export interface EnvironmentView {
  name: string;
  dagster_url: string | null;
  workspace_dir: string;
  /** The secret names its pipelines may use (with "inherit": the names the built-in block types declare). */
  secrets: string[];
  /** Where those names come from: the environment's own list, or "inherit". */
  secrets_from: 'list' | 'inherit';
  policy: Environment['policy'];
  /** How its Dagster loads the shards: from their files, or from one gRPC code server each. */
  code_servers: 'files' | 'grpc';
  /** Where those code servers listen (code_servers grpc); null otherwise. */
  grpc: { host: string; ports: { from: number; to: number } } | null;
  /** Where its Dagster runs; on Kubernetes, deploy writes images and manifests there (README, "Running on Kubernetes"). */
  target: 'local' | 'kubernetes';
  kubernetes: { namespace: string; image: string; base_image: string; port: number; secret_name: string } | null;
}

/** Where pipelines can be deployed, and the rules each environment sets. */
export class EnvironmentService {
  private readonly connections: DagsterConnections;

  constructor(connections: DagsterConnections) {
    this.connections = connections;
  }

  list(): EnvironmentView[] {
    return this.connections.all().map(({ env }) => ({
      name: env.name,
      dagster_url: env.graphqlUrl ? env.graphqlUrl.replace(/\/graphql\/?$/, '') : null,
      workspace_dir: env.workspaceDir,
      secrets: [...allowedSecrets(env)],
      secrets_from: env.secrets === 'inherit' ? 'inherit' : 'list',
      policy: env.policy,
      code_servers: env.codeServers ?? 'files',
      grpc: env.codeServers === 'grpc' && env.grpc ? { host: env.grpc.host, ports: { ...env.grpc.ports } } : null,
      target: env.kubernetes ? 'kubernetes' : 'local',
      kubernetes: env.kubernetes
        ? { namespace: env.kubernetes.namespace, image: env.kubernetes.image, base_image: env.kubernetes.baseImage, port: env.kubernetes.port, secret_name: env.kubernetes.secretName }
        : null,
    }));
  }

  /**
   * Whether deploying to `environment` waits for a person's yes. An environment that is not
   * configured needs none: the deploy itself is refused, naming it.
   */
  deployNeedsApproval(environment: string | undefined, by: Caller): boolean {
    return deployNeedsApproval(environment ? this.connections.get(environment)?.env : undefined, by);
  }
}
