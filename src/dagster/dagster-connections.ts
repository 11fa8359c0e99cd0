import { DagsterGraphqlClient, type GraphqlClientOptions } from '../adapters/dagster/graphql-client.ts';
import { DagsterLocations } from './dagster-locations.ts';
import type { Environment } from './environments.ts';
import { Workspace } from './workspace.ts';

export interface DagsterConnection {
  env: Environment;
  workspace: Workspace;
  /** Null when the environment has no GraphQL URL: locations are written, never loaded. */
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
        return [name, { env, workspace: new Workspace(env), client, locations: client ? new DagsterLocations(client) : null }];
      }),
    );
  }

  get(name: string): DagsterConnection | undefined {
    return this.byName.get(name);
  }

  names(): string[] {
    return [...this.byName.keys()];
  }

  all(): DagsterConnection[] {
    return [...this.byName.values()];
  }
}
