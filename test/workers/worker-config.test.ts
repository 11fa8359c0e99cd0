import { describe, expect, it } from 'vitest';
import { workerSettings } from '../../src/workers/worker-config.ts';

describe('the Worker reads its configuration', () => {
  it('always requires authentication, and takes Postgres from DATABASE_URL', () => {
    const { config, databaseUrl } = workerSettings({ DATABASE_URL: 'postgres://db.example/app', KV: {} });
    expect(config.AUTH_MODE).toBe('required');
    expect(databaseUrl).toBe('postgres://db.example/app');
  });

  it("prefers a Hyperdrive binding's connection string", () => {
    expect(workerSettings({ DATABASE_URL: 'postgres://db.example/app', HYPERDRIVE: { connectionString: 'postgresql://hyperdrive.local/app' } }).databaseUrl).toBe('postgresql://hyperdrive.local/app');
  });

  it('refuses, by name, what a Worker cannot honour', () => {
    expect(() => workerSettings({ DATABASE_URL: 'postgres://db.example/app', AUTH_MODE: 'local' })).toThrow(/AUTH_MODE: "local" is refused on Workers/);
    expect(() => workerSettings({ DATABASE_URL: 'postgres://db.example/app', DAGSTER_ENVIRONMENTS: 'envs.yaml' })).toThrow(/DAGSTER_ENVIRONMENTS: names a file/);
    expect(() => workerSettings({})).toThrow(/DATABASE_URL: not set, and no Hyperdrive binding named HYPERDRIVE/);
    expect(() => workerSettings({ DATABASE_URL: 'mysql://x' })).toThrow(/DATABASE_URL/);
  });
});
