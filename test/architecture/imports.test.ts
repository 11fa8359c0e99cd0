import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

// The import graph, read from the sources: tools see the domain facade (src/domain.ts) and never
// the container (src/services.ts), the chat or the agent — which runs the tools, so reaching it
// would make the cycle tools → services → chat → agent → tools again. Surfaces (routes, the MCP
// server) take the facade too; only the entries that assemble the service may import services.ts.

const ROOT = resolve(import.meta.dirname, '../..');
const IMPORT = /(?:^|\n)\s*(?:import|export)\s(?:type\s)?(?:[^'"]*?\sfrom\s)?['"]([^'"]+)['"]/g;

function sourcesUnder(dir: string): string[] {
  return readdirSync(join(ROOT, dir)).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(join(ROOT, path)).isDirectory()) return sourcesUnder(path);
    return path.endsWith('.ts') && !path.endsWith('.test.ts') ? [path] : [];
  });
}

/** The project files a file imports (type-only imports included: a type cycle is a cycle too). */
function importsOf(file: string): string[] {
  const text = readFileSync(join(ROOT, file), 'utf8');
  return [...text.matchAll(IMPORT)]
    .map((m) => m[1]!)
    .filter((spec) => spec.startsWith('.'))
    .map((spec) => relative(ROOT, resolve(ROOT, dirname(file), spec)))
    .filter((path) => existsSync(join(ROOT, path)));
}

/** Every project file reachable from `start`, each with the chain of imports that reaches it. */
function reachable(start: string): Map<string, string[]> {
  const chains = new Map<string, string[]>([[start, [start]]]);
  const queue = [start];
  while (queue.length) {
    const file = queue.shift()!;
    for (const next of importsOf(file)) {
      if (chains.has(next)) continue;
      chains.set(next, [...chains.get(file)!, next]);
      queue.push(next);
    }
  }
  return chains;
}

const forbiddenForTools = (path: string) => path === 'src/services.ts' || path === 'src/app-domain.ts' || path.startsWith('src/chat/') || path.startsWith('src/agent/') || path.startsWith('mcp-server/');

describe('the import graph', () => {
  it('reads imports the way the sources write them', () => {
    // A check that finds nothing proves nothing: the reader must see the imports that exist.
    expect(importsOf('tools/tool.ts')).toEqual(expect.arrayContaining(['src/domain.ts', 'src/auth/principal.ts']));
    expect(importsOf('src/services.ts')).toEqual(expect.arrayContaining(['src/chat/chat-service.ts']));
    expect([...reachable('src/chat/chat-service.ts').keys()]).toEqual(expect.arrayContaining(['tools/index.ts']));
  });

  const tools = sourcesUnder('tools');
  it.each(tools)('%s reaches neither services.ts, the chat, the agent nor the MCP server', (file) => {
    const bad = [...reachable(file)].filter(([path]) => forbiddenForTools(path)).map(([, chain]) => chain.join(' → '));
    expect(bad).toEqual([]);
  });

  it('routes and the MCP server (but its stdio entry, which assembles the service) do not import services.ts', () => {
    const surfaces = [...sourcesUnder('src/routes'), ...sourcesUnder('mcp-server').filter((f) => f !== 'mcp-server/stdio.ts'), ...tools];
    const offenders = surfaces.filter((file) => importsOf(file).includes('src/services.ts'));
    expect(offenders).toEqual([]);
  });
});
