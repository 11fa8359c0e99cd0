import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { LOCAL_PRINCIPAL } from '../../src/auth/principal.ts';
import { flagshipSpec } from '../compile/fixtures.ts';
import { createTestApp, writeOnlyEnvironment, type TestApp } from '../support/test-app.ts';

// Secrets stay names: a pipeline may name only the secrets its environment allows, and the answer
// for any other name is the same whether or not this service's process has it set.
describe('secret names an environment allows', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp('pglite', {
      environments: [writeOnlyEnvironment('development'), writeOnlyEnvironment('staging', { secrets: ['SOURCE_DB_URL', 'WAREHOUSE_URL'] })],
    });
  });
  afterAll(() => t.close());
  afterEach(() => vi.unstubAllEnvs());

  /** A flagship pipeline whose two blocks read these secrets. */
  const create = async (name: string, source: string, warehouse: string) => {
    const spec = flagshipSpec();
    spec.blocks[0]!.config.connection_secret = source;
    spec.blocks[1]!.config.connection_secret = warehouse;
    return (await t.call('POST', '/v1/pipelines', { ...spec, name })).body.id as string;
  };
  const preview = async (id: string, environment: string) => (await t.services.domain.deployments.preview(LOCAL_PRINCIPAL, id, { environment })).missing_secrets;
  const deploy = (id: string, environment: string) => t.call('POST', `/v1/pipelines/${id}/deployments`, { environment });

  it('lists the names each environment allows, "inherit" spelled out as the built-in block types\' names, never a value', async () => {
    vi.stubEnv('POSTGRES_URL', 'postgres://user:hunter2@db/x');
    const listed = (await t.call('GET', '/v1/environments')).body.environments;
    const development = listed.find((e: any) => e.name === 'development');
    expect(development.secrets_from).toBe('inherit');
    expect(development.secrets).toEqual(expect.arrayContaining(['POSTGRES_URL', 'CLICKHOUSE_URL', 'AWS_ACCESS_KEY_ID']));
    expect(development.secrets).not.toContain('OPENAI_API_KEY');
    expect(listed.find((e: any) => e.name === 'staging')).toMatchObject({ secrets: ['SOURCE_DB_URL', 'WAREHOUSE_URL'], secrets_from: 'list' });
    expect(JSON.stringify(listed)).not.toContain('hunter2');
  });

  it('answers a name of the service\'s own environment exactly as it answers a name set nowhere', async () => {
    vi.stubEnv('OPENAI_API_KEY', 'sk-not-for-pipelines');
    vi.stubEnv('CLICKHOUSE_URL', 'http://clickhouse:8123');
    const id = await create('probing', 'OPENAI_API_KEY', 'SET_NOWHERE_AT_ALL');
    const issues = await preview(id, 'development');
    expect(issues).toHaveLength(2);
    const [set, unset] = issues.map((i) => ({ ...i, message: i.message.replace(/OPENAI_API_KEY|SET_NOWHERE_AT_ALL/g, 'NAME'), hint: i.hint!.replace(/OPENAI_API_KEY|SET_NOWHERE_AT_ALL/g, 'NAME') }));
    expect({ ...set, path: '' }).toEqual({ ...unset, path: '' });
    expect(issues[0]).toMatchObject({
      code: 'secret_not_allowed',
      path: '/blocks/0/config/connection_secret',
      message: 'secret OPENAI_API_KEY is not one environment "development" allows its pipelines to use',
    });
    // How to allow it, and the names it may use instead (the built-in block types' secrets).
    expect(issues[0]!.hint).toContain('POSTGRES_URL');
    expect(issues[0]!.hint).toContain('"secrets" list of "development" in DAGSTER_ENVIRONMENTS');
    expect(issues[0]!.hint).not.toContain('sk-not-for-pipelines');

    const res = await deploy(id, 'development');
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('invalid:deployment');
    expect(res.body.error.issues).toEqual(issues);
    expect(JSON.stringify(res.body)).not.toMatch(/is not set/);
  });

  it('keeps the block types\' own secret names working with "inherit", set or not', async () => {
    vi.stubEnv('CLICKHOUSE_URL', 'http://clickhouse:8123');
    vi.stubEnv('POSTGRES_URL', '');
    const id = await create('defaults', 'POSTGRES_URL', 'CLICKHOUSE_URL');
    expect(await preview(id, 'development')).toEqual([
      expect.objectContaining({ code: 'missing_secret', path: '/blocks/0/config/connection_secret', message: 'secret POSTGRES_URL is not set in environment "development"' }),
    ]);
    vi.stubEnv('POSTGRES_URL', 'postgres://source/db');
    expect(await preview(id, 'development')).toEqual([]);
    expect((await deploy(id, 'development')).status).toBe(202);
  });

  it('allows exactly the names an environment lists', async () => {
    const listed = await create('listed', 'SOURCE_DB_URL', 'WAREHOUSE_URL');
    expect(await preview(listed, 'staging')).toEqual([]);
    const other = await create('unlisted', 'SOURCE_DB_URL', 'POSTGRES_URL');
    expect(await preview(other, 'staging')).toEqual([
      expect.objectContaining({ code: 'secret_not_allowed', path: '/blocks/1/config/connection_secret', hint: expect.stringContaining('Name one of SOURCE_DB_URL, WAREHOUSE_URL') }),
    ]);
    expect((await deploy(other, 'staging')).status).toBe(400);
  });
});
