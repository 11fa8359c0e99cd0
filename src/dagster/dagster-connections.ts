import { DagsterGraphqlClient, type GraphqlClientOptions } from '../adapters/dagster/graphql-client.ts';
import { AppError } from '../errors.ts';
import { DagsterLocations } from './dagster-locations.ts';
import type { Environment } from './environments.ts';
import { Workspace } from './workspace.ts';

export interface DagsterConnection {
  env: Environment;
  workspace: Workspace;
  /** Null when the environment has no GraphQL URL, or runs on Kubernetes: locations are written, never loaded by this service. */
  client: DagsterGraphqlClient | null;
  locations: DagsterLocations | null;
}

/** Per environment: its workspace folder and, when configured, its Dagster webserver. */
export class DagsterConnections {
  private readonly byName: Map<string, DagsterConnection>;

  constructor(environments: Map<string, Environment>, clientOptions: GraphqlClientOptions = {}) {
    this.byName = new Map(
      [...environments].map(([name, env]) => {
        const client = env.graphqlUrl ? new DagsterGraphqlClient(env.graphqlUrl, clientOptions) : null;
        return [name, { env, workspace: new Workspace(env), client, locations: client && !env.kubernetes ? new DagsterLocations(client) : null }];
      }),
    );
  }

  get(name: string): DagsterConnection | undefined {
    return this.byName.get(name);
  }

  /**
   * The named environment's connection; a name that is not configured is the caller's mistake,
   * reported at `path` (the request field that named it) with the names there are.
   */
  require(name: string | undefined, path = '/environment'): DagsterConnection {
    const connection = name ? this.byName.get(name) : undefined;
    if (connection) return connection;
    throw new AppError('invalid:environment', name ? `There is no environment "${name}".` : 'Say which environment to use.', {
      hint: `Environments: ${this.names().join(', ')}.`,
      issues: [{ code: 'unknown_environment', path, message: name ? `"${name}" is not configured` : 'environment is required' }],
    });
  }

  names(): string[] {
    return [...this.byName.keys()];
  }

  all(): DagsterConnection[] {
    return [...this.byName.values()];
  }
}
