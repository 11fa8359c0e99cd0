import type { TestProject } from 'vitest/node';
import { startPostgres } from './postgres-server.ts';
import { startRedis } from './redis-server.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    /** An admin connection string to a real PostgreSQL server; tests make their own databases on it. */
    postgresUrl: string;
    /** A real Redis; tests keep apart by key prefix (see test/support/kvs.ts). */
    redisUrl: string;
  }
}

/**
 * One PostgreSQL server and one Redis for the whole run: those in TEST_DATABASE_URL and
 * TEST_REDIS_URL, or our own.
 */
export default async function setup(project: TestProject) {
  const given = process.env.TEST_DATABASE_URL;
  const redis = await startRedis();
  project.provide('redisUrl', redis.url);
  if (given) {
    project.provide('postgresUrl', given);
    return () => redis.stop();
  }
  const server = await startPostgres().catch(async (error) => {
    await redis.stop();
    throw error;
  });
  project.provide('postgresUrl', server.url);
  return async () => {
    await server.stop();
    await redis.stop();
  };
}
