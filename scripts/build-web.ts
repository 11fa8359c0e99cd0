/**
 * Bundles the web page (web/) into web/dist with esbuild: hashed app.js and app.css, and an
 * index.html naming them. Skips the build when nothing under web/ changed since the last one
 * (a stamp of the sources' hash), so `npm start` and `npm test` can run it every time.
 *
 *   node scripts/build-web.ts            build if the sources changed
 *   node scripts/build-web.ts --force    build regardless
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const webDir = join(root, 'web');
const outDir = join(webDir, 'dist');
const stampFile = join(outDir, '.sources-hash');

/** Every source file under web/ except the output, sorted, so the hash is stable. */
function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir).sort()) {
    const path = join(dir, name);
    if (path === outDir || name === 'node_modules') continue;
    if (statSync(path).isDirectory()) out.push(...sourceFiles(path));
    else out.push(path);
  }
  return out;
}

function sourcesHash(): string {
  const hash = createHash('sha256');
  // The bundle also depends on the versions of what it imports: the lockfile stands for them.
  for (const file of [...sourceFiles(webDir), join(root, 'package-lock.json'), fileURLToPath(import.meta.url)]) {
    hash.update(relative(root, file)).update('\0').update(readFileSync(file)).update('\0');
  }
  return hash.digest('hex');
}

async function build() {
  const force = process.argv.includes('--force');
  const hash = sourcesHash();
  if (!force && existsSync(stampFile) && readFileSync(stampFile, 'utf8') === hash && existsSync(join(outDir, 'index.html'))) return;

  let esbuild: typeof import('esbuild');
  try {
    esbuild = await import('esbuild');
  } catch {
    // An install without devDependencies cannot build; a page built before still serves.
    if (existsSync(join(outDir, 'index.html'))) return;
    process.stderr.write('The web page is not built and esbuild is missing: run npm install (with devDependencies), then npm run build:web.\n');
    return;
  }
  rmSync(outDir, { recursive: true, force: true });
  mkdirSync(outDir, { recursive: true });
  const result = await esbuild.build({
    entryPoints: { app: join(webDir, 'main.tsx') },
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    minify: true,
    sourcemap: 'linked',
    jsx: 'automatic',
    entryNames: '[name]-[hash]',
    outdir: join(outDir, 'assets'),
    metafile: true,
    define: { 'process.env.NODE_ENV': '"production"' },
    logLevel: 'error',
  });
  const outputs = Object.keys(result.metafile.outputs).map((p) => relative(join(outDir, 'assets'), join(root, p)));
  const js = outputs.find((p) => p.endsWith('.js'));
  const css = outputs.find((p) => p.endsWith('.css'));
  if (!js) throw new Error('esbuild produced no JavaScript');
  const template = readFileSync(join(webDir, 'index.html'), 'utf8');
  const html = template
    .replace('<!-- styles -->', css ? `<link rel="stylesheet" href="/assets/${css}">` : '')
    .replace('<!-- script -->', `<script type="module" src="/assets/${js}"></script>`);
  writeFileSync(join(outDir, 'index.html'), html);
  writeFileSync(stampFile, hash);
  process.stdout.write(`web page built: web/dist (${js}${css ? `, ${css}` : ''})\n`);
}

build().catch((error) => {
  process.stderr.write(`web page build failed: ${(error as Error).message}\n`);
  process.exit(1);
});
