import type { TestProject } from 'vitest/node';
import { startPostgres } from './postgres-server.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    /** An admin connection string to a real PostgreSQL server; tests make their own databases on it. */
    postgresUrl: string;
  }
}

/** One PostgreSQL server for the whole run: the one in TEST_DATABASE_URL, or our own. */
export default async function setup(project: TestProject) {
  const given = process.env.TEST_DATABASE_URL;
  if (given) {
    project.provide('postgresUrl', given);
    return;
  }
  const server = await startPostgres();
  project.provide('postgresUrl', server.url);
  return () => server.stop();
}
