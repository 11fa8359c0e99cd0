import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMcpServer } from '../../mcp-server/create-server.ts';
import { LOCAL_PRINCIPAL, type Principal } from '../../src/auth/principal.ts';
import { repoPolicyFromConfig } from '../../src/code-repos/repo-policy.ts';
import { createLogger } from '../../src/logger.ts';
import { createTestApp, type TestApp } from '../support/test-app.ts';
import { GitFixture, greetingModule, repoManifest } from './git-fixture.ts';

// A code repository compiled end to end: real git repositories cloned over file://, the real
// store, and the block library's check (check_repo) in the project's Python.

const SLOW = 240_000;

describe('compiling a code repository', () => {
  let t: TestApp;
  let repo: GitFixture;
  let other: { key: string; orgId: string };
  const me: Principal = LOCAL_PRINCIPAL;
  const asOther = () => ({ authorization: `Bearer ${other.key}` });

  /** POST /dagster/compile/ and the outcome once the background work is done. */
  async function compile(body: { repo_url: string; branch: string }) {
    const started = await t.call('POST', '/dagster/compile/', body);
    expect(started.status, JSON.stringify(started.body)).toBe(202);
    await t.services.codeRepos.idle();
    const outcome = await t.call('GET', `/dagster/compile/${started.body.compile_id}`);
    expect(outcome.status).toBe(200);
    return { started: started.body, outcome: outcome.body };
  }

  beforeAll(async () => {
    t = await createTestApp('pglite', {
      codeRepos: { policy: repoPolicyFromConfig({ CODE_REPO_ALLOW_FILE: true, CODE_REPO_ALLOWED_HOSTS: undefined }), checkTimeoutMs: 180_000 },
    });
    other = await t.issueKey({ org: 'other-org', user: 'someone', role: 'admin' });
    repo = new GitFixture('etl-blocks.git');
  });
  afterAll(async () => {
    await t?.close();
    repo?.remove();
  });

  let first: { compile_id: string; commit: string };

  it('registers the good block type, owned by the org, and names the broken one', async () => {
    const commit = repo.commit({
      'blocks/greeting_rows.json': repoManifest('greeting_rows', 'greeting:make_rows'),
      'blocks/broken_rows.json': repoManifest('broken_rows', 'greeting:no_such_function'),
      'python/greeting.py': greetingModule('hello'),
      'python/helpers/__init__.py': '',
    });
    const { started, outcome } = await compile({ repo_url: repo.url, branch: 'main' });
    // The seed's answer, exactly.
    expect(started).toEqual({ compile_id: expect.any(String), message: 'Code compilation initiated.', status: 'in_progress' });
    expect(outcome).toMatchObject({ compile_id: started.compile_id, status: 'completed', repo_url: repo.url, branch: 'main', commit, registered: ['etl_blocks__greeting_rows@1'] });
    expect(outcome.errors).toEqual([expect.objectContaining({ file: 'blocks/broken_rows.json', block: 'broken_rows', message: expect.stringContaining('no_such_function') })]);
    first = { compile_id: started.compile_id, commit };

    const found = await t.call('GET', '/v1/block-types?q=greeting');
    expect(found.body.results.map((r: { block_type: { ref: string } }) => r.block_type.ref)).toContain('etl_blocks__greeting_rows@1');
    const type = await t.call('GET', '/v1/block-types/etl_blocks__greeting_rows@1');
    expect(type.body).toMatchObject({
      builtin: false,
      compiles_to: 'asset',
      python: { callable: `constellation_repo_etl_blocks_${commit.slice(0, 12)}.greeting:make_rows` },
      origin: { repo_url: repo.url, branch: 'main', commit, package: `constellation_repo_etl_blocks_${commit.slice(0, 12)}`, requirements: [], compile_id: started.compile_id },
    });
    expect(await t.services.codeRepoStore.packageFiles([type.body.origin.package])).toEqual({
      [`${type.body.origin.package}/greeting.py`]: greetingModule('hello'),
      [`${type.body.origin.package}/helpers/__init__.py`]: '',
    });
  }, SLOW);

  it('shows another org nothing: not the block type, not the compile, not the repository', async () => {
    const search = await t.call('GET', '/v1/block-types?q=greeting', undefined, asOther());
    expect(JSON.stringify(search.body)).not.toContain('etl_blocks__');
    expect((await t.call('GET', '/v1/block-types/etl_blocks__greeting_rows@1', undefined, asOther())).status).toBe(404);
    expect((await t.call('GET', `/dagster/compile/${first.compile_id}`, undefined, asOther())).status).toBe(404);
    expect((await t.call('GET', '/v1/code-repos', undefined, asOther())).body).toEqual({ repos: [] });
    expect((await t.call('POST', '/v1/block-types/etl_blocks__greeting_rows@1/retire', {}, asOther())).status).toBe(404);
  });

  it('registers nothing new when the same commit is compiled again', async () => {
    const { outcome } = await compile({ repo_url: repo.url, branch: 'main' });
    expect(outcome).toMatchObject({ status: 'completed', commit: first.commit, registered: [] });
    expect(outcome.errors).toHaveLength(1);
  }, SLOW);

  it('registers version 2 when the code changes; it becomes the latest and version 1 stays resolvable', async () => {
    const commit = repo.commit({ 'python/greeting.py': greetingModule('good day'), 'blocks/broken_rows.json': null });
    const { outcome } = await compile({ repo_url: repo.url, branch: 'main' });
    expect(outcome).toMatchObject({ status: 'completed', commit, registered: ['etl_blocks__greeting_rows@2'], errors: [] });
    expect((await t.call('GET', '/v1/block-types/etl_blocks__greeting_rows')).body.ref).toBe('etl_blocks__greeting_rows@2');
    const v1 = await t.call('GET', '/v1/block-types/etl_blocks__greeting_rows@1');
    expect(v1.body.origin.commit).toBe(first.commit);
    const listed = await t.call('GET', '/v1/code-repos');
    expect(listed.body.repos).toEqual([
      expect.objectContaining({
        repo_url: repo.url,
        namespace: 'etl_blocks',
        block_types: [
          {
            slug: 'etl_blocks__greeting_rows',
            versions: [
              { ref: 'etl_blocks__greeting_rows@1', version: 1, commit: first.commit, latest: false, retired: false },
              { ref: 'etl_blocks__greeting_rows@2', version: 2, commit, latest: true, retired: false },
            ],
          },
        ],
      }),
    ]);
  }, SLOW);

  it('retires a version: search and new pipelines skip it, a stored pipeline that pins it still validates', async () => {
    const pinned = await t.services.pipelines.create(me, { name: 'greets', blocks: [{ id: 'greet', type: 'etl_blocks__greeting_rows@2', config: {} }], edges: [] });
    const retired = await t.call('POST', '/v1/block-types/etl_blocks__greeting_rows@2/retire', {});
    expect(retired.body).toEqual({ ref: 'etl_blocks__greeting_rows@2', retired: true, latest: 'etl_blocks__greeting_rows@1' });

    const found = await t.call('GET', '/v1/block-types?q=greeting');
    const refs = found.body.results.map((r: { block_type: { ref: string } }) => r.block_type.ref);
    expect(refs).toContain('etl_blocks__greeting_rows@1');
    expect(refs).not.toContain('etl_blocks__greeting_rows@2');
    expect((await t.call('GET', '/v1/block-types/etl_blocks__greeting_rows@2')).body).toMatchObject({ retired: true });

    const refused = await t.call('POST', '/v1/pipelines', { name: 'new greets', blocks: [{ id: 'greet', type: 'etl_blocks__greeting_rows@2', config: {} }], edges: [] });
    expect(refused.status).toBe(400);
    expect(refused.body.error.issues).toEqual([
      expect.objectContaining({ code: 'retired_block_type', path: '/blocks/0/type', message: expect.stringContaining('etl_blocks__greeting_rows@2'), hint: expect.stringContaining('etl_blocks__greeting_rows@1') }),
    ]);
    // An edit writes a new version: it may not keep the retired type either.
    const edited = await t.call('PUT', `/v1/pipelines/${pinned.pipeline.id}`, { spec: { ...pinned.version.spec, description: 'edited' } });
    expect(edited.status).toBe(400);
    expect(edited.body.error.issues).toEqual([expect.objectContaining({ code: 'retired_block_type', path: '/blocks/0/type' })]);
    // Unpinned, a new pipeline takes the latest version not retired.
    const unpinned = await t.services.pipelines.create(me, { name: 'newer greets', blocks: [{ id: 'greet', type: 'etl_blocks__greeting_rows', config: {} }], edges: [] });
    expect(unpinned.version.spec.blocks[0]!.type).toBe('etl_blocks__greeting_rows@1');

    // Compile and deploy re-validate the stored version: that does not refuse the retired type.
    // (Whether the compiler emits repository blocks is the shipping side's, not this test's.)
    expect(await t.services.pipelines.validate(me, pinned.version.spec)).toMatchObject({ valid: true, errors: [] });
    const compiled = await t.call('POST', `/v1/pipelines/${pinned.pipeline.id}/compile`, {});
    expect(JSON.stringify(compiled.body)).not.toContain('retired');
  });

  it('fails naming the unsatisfied requirement line and the manifest file and field', async () => {
    const commit = repo.commit({
      'requirements.txt': '# what the code needs\nno-such-package-anywhere==1.0\n',
      'blocks/sensor_rows.json': repoManifest('sensor_rows', 'greeting:make_rows', { compiles_to: 'sensor' }),
    });
    const { outcome } = await compile({ repo_url: repo.url, branch: 'main' });
    expect(outcome).toMatchObject({ status: 'failed', commit, registered: [] });
    expect(outcome.errors).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ file: 'blocks/sensor_rows.json', path: '/compiles_to', message: expect.stringContaining('blocks/sensor_rows.json') }),
        expect.objectContaining({ file: 'requirements.txt', message: expect.stringContaining('no-such-package-anywhere==1.0') }),
      ]),
    );
    expect(outcome.errors).toHaveLength(2);
  }, SLOW);

  it('refuses a URL it must never fetch at POST, naming repo_url, and stores nothing', async () => {
    const before = await t.db.query('SELECT id FROM code_compiles');
    // One per rule; check-repo-url.test.ts and forbidden-addresses.test.ts hold the full tables.
    for (const repo_url of ['http://github.com/acme/b.git', 'ssh://github.com/acme/b.git', 'https://127.0.0.1/b.git', 'https://10.1.2.3/b.git', 'https://169.254.169.254/latest', 'https://[::1]/b.git']) {
      const res = await t.call('POST', '/dagster/compile/', { repo_url, branch: 'main' });
      expect(res.status, repo_url).toBe(400);
      expect(res.body.error.issues, repo_url).toEqual([expect.objectContaining({ path: '/repo_url' })]);
    }
    const badBranch = await t.call('POST', '/dagster/compile/', { repo_url: repo.url, branch: 'no..dots' });
    expect(badBranch.status).toBe(400);
    expect(badBranch.body.error.issues).toEqual([expect.objectContaining({ path: '/branch' })]);
    expect(await t.db.query('SELECT id FROM code_compiles')).toEqual(before);
  });

  it('says which branch does not exist, as the outcome of the compile', async () => {
    const { outcome } = await compile({ repo_url: repo.url, branch: 'nope' });
    expect(outcome).toMatchObject({ status: 'failed', commit: null, registered: [], errors: [expect.objectContaining({ path: '/branch', message: expect.stringContaining('"nope"') })] });
  });

  it('reports a compile whose process was lost as failed, once past every time limit', async () => {
    const row = await t.services.codeRepoStore.insertCompile({ orgId: me.orgId, userId: me.userId, repoUrl: repo.url, branch: 'main' });
    expect((await t.call('GET', `/dagster/compile/${row.id}`)).body.status).toBe('in_progress');
    await t.db.query(`UPDATE code_compiles SET created_at = now() - interval '1 hour' WHERE id = $1`, [row.id]);
    const res = await t.call('GET', `/dagster/compile/${row.id}`);
    expect(res.body).toMatchObject({ status: 'failed', registered: [], errors: [expect.objectContaining({ message: expect.stringContaining('interrupted') })] });
    expect(res.body.finished_at).toEqual(expect.any(String));
  });

  it('answers the same through the MCP tool as through REST', async () => {
    const server = createMcpServer({ domain: t.services.domain, logger: createLogger('silent'), approvals: t.services.approvals, readOnly: false }, me);
    const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
    await server.connect(serverSide);
    const client = new Client({ name: 'code-compile-test', version: '1.0.0' });
    await client.connect(clientSide);
    try {
      await client.listTools();
      const viaTool = (await client.callTool({ name: 'compile_code_repository', arguments: { repo_url: repo.url, branch: 'main' } })) as { structuredContent?: Record<string, unknown>; isError?: boolean };
      expect(viaTool.isError).toBeFalsy();
      const { outcome: viaRest } = await compile({ repo_url: repo.url, branch: 'main' });
      const same = (o: Record<string, unknown>) => ({ status: o.status, commit: o.commit, registered: o.registered, errors: o.errors });
      expect(same(viaTool.structuredContent!)).toEqual(same(viaRest));
      const again = (await client.callTool({ name: 'get_code_compile', arguments: { compile_id: viaTool.structuredContent!.compile_id } })) as { structuredContent?: Record<string, unknown> };
      expect(again.structuredContent).toEqual(viaTool.structuredContent);
    } finally {
      await client.close();
      await server.close();
    }
  }, SLOW);
});
