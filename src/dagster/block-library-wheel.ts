import { execFile } from 'node:child_process';
import { createHash, randomUUID } from 'node:crypto';
import { chmodSync, copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { fromRoot } from '../source-path.ts';

const run = promisify(execFile);

/**
 * The block library (blocks/python) as a wheel in each environment's workspace, so that a shard's
 * requirements.txt installs it anywhere (`--find-links ../../wheels`): a fresh virtualenv, an
 * image, a team's own Dagster. Nothing publishes it to an index; the workspace carries it.
 */

/** The folder under an environment's workspace_dir that holds the wheel. */
export const BLOCK_LIBRARY_WHEELS_DIR = 'wheels';

const LIBRARY_DIR = fromRoot('blocks/python');

/** The library's version, as pyproject.toml's [project] table says: the one place it is written. */
export const BLOCK_LIBRARY_VERSION = projectVersion(readFileSync(join(LIBRARY_DIR, 'pyproject.toml'), 'utf8'));

/** The wheel's file name (PEP 427: the distribution name with `_`, pure Python, any platform). */
export const BLOCK_LIBRARY_WHEEL_NAME = `constellation_blocks-${BLOCK_LIBRARY_VERSION}-py3-none-any.whl`;

/**
 * blocks/python/constraints.txt: the exact version of every package of the stack the library was
 * tested with. Each shard carries a copy, so that installing its requirements installs that stack.
 */
export const BLOCK_LIBRARY_CONSTRAINTS = readFileSync(join(LIBRARY_DIR, 'constraints.txt'), 'utf8');

/** Beside the wheel: the hash of the sources it was built from. */
const STAMP_NAME = `.constellation_blocks-${BLOCK_LIBRARY_VERSION}.sha256`;

/** What goes into the wheel: the project file and the package's files (bytecode caches aside). */
const PACKAGE_DIR = 'constellation_blocks';

// Zip entries carry timestamps; a fixed one (1980-01-01, the earliest a zip can hold) makes two
// builds of the same sources the same bytes, so the hash of a wheel says which sources it holds.
const SOURCE_DATE_EPOCH = '315532800';

/** The library's files that make the wheel, relative to libraryDir, '/'-separated and sorted. */
function sourceFiles(libraryDir: string): string[] {
  const walk = (dir: string): string[] =>
    readdirSync(join(libraryDir, dir), { withFileTypes: true }).flatMap((entry) => {
      const path = `${dir}/${entry.name}`;
      if (entry.isDirectory()) return entry.name === '__pycache__' ? [] : walk(path);
      return entry.isFile() && !entry.name.endsWith('.pyc') ? [path] : [];
    });
  return ['pyproject.toml', ...walk(PACKAGE_DIR)].sort();
}

/** The sha256 of the library's sources (names and bytes): a wheel built from other sources has another. */
export function blockLibraryHash(libraryDir: string = LIBRARY_DIR): string {
  const hash = createHash('sha256');
  for (const path of sourceFiles(libraryDir)) {
    const bytes = readFileSync(join(libraryDir, path));
    // Lengths first, so that no two different file lists hash alike.
    hash.update(`${path.length}:${path}${bytes.length}:`).update(bytes);
  }
  return hash.digest('hex');
}

/** Builds in flight in this process, by wheel path: concurrent deploys of one environment share one build. */
const building = new Map<string, Promise<string>>();

/**
 * Wheels this process built, by sources hash: another workspace gets a copy instead of a build
 * (builds are reproducible, so the bytes are the same).
 */
const builtByHash = new Map<string, string>();

/** A build folder older than this was left by a process that died while building. */
const ABANDONED_BUILD_MS = 60 * 60 * 1000;

/**
 * The absolute path of the library's wheel in `workspaceDir`'s wheels folder, built with `python`
 * when it is missing or was built from other sources. The wheel is built into a temporary folder
 * and renamed into place, and its stamp written after it: a reader never sees a half-written
 * wheel, and a build that died leaves a stale stamp (rebuilt next time), never a wrong one.
 * Builds are reproducible, so two processes building at once put the same bytes in place.
 */
export async function ensureBlockLibraryWheel(workspaceDir: string, python: string, libraryDir: string = LIBRARY_DIR): Promise<string> {
  const wheelsDir = join(resolve(workspaceDir), BLOCK_LIBRARY_WHEELS_DIR);
  const wheel = join(wheelsDir, BLOCK_LIBRARY_WHEEL_NAME);
  const pending = building.get(wheel);
  if (pending) return pending;
  const hash = blockLibraryHash(libraryDir);
  if (stampOf(wheel) === hash) return wheel;
  const build = buildWheel(libraryDir, python, wheelsDir).finally(() => building.delete(wheel));
  building.set(wheel, build);
  return build;
}

async function buildWheel(libraryDir: string, python: string, wheelsDir: string): Promise<string> {
  mkdirSync(wheelsDir, { recursive: true });
  clearAbandonedBuilds(wheelsDir);
  // Inside the wheels folder, so that the rename into place never crosses a file system.
  const tmp = join(wheelsDir, `.build-${randomUUID()}`);
  try {
    // A copy of the sources, hashed for the stamp: the wheel holds what the stamp names even when a
    // source is edited meanwhile, and setuptools' build folders stay out of the repository.
    const src = join(tmp, 'src');
    for (const path of sourceFiles(libraryDir)) {
      mkdirSync(dirname(join(src, path)), { recursive: true });
      copyFileSync(join(libraryDir, path), join(src, path));
      // The wheel records each file's mode: one mode for all, whatever the checkout's umask.
      chmodSync(join(src, path), 0o644);
    }
    const hash = blockLibraryHash(src);
    const out = join(tmp, 'out');
    const earlier = builtByHash.get(hash);
    if (earlier && stampOf(earlier) === hash) {
      mkdirSync(out);
      copyFileSync(earlier, join(out, BLOCK_LIBRARY_WHEEL_NAME));
    } else {
      await pipWheel(libraryDir, python, src, out);
    }
    const wheel = join(wheelsDir, BLOCK_LIBRARY_WHEEL_NAME);
    renameSync(join(out, BLOCK_LIBRARY_WHEEL_NAME), wheel);
    const stampTmp = join(tmp, 'stamp');
    writeFileSync(stampTmp, `${hash}\n`);
    renameSync(stampTmp, join(wheelsDir, STAMP_NAME));
    builtByHash.set(hash, wheel);
    return wheel;
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

async function pipWheel(libraryDir: string, python: string, src: string, out: string): Promise<void> {
  try {
    // No build isolation: the build uses the setuptools of `python` (pinned in constraints.txt)
    // instead of fetching one from an index, so it works offline and is the same every time.
    await run(python, ['-m', 'pip', 'wheel', '--no-deps', '--no-build-isolation', '--no-index', '--disable-pip-version-check', '-q', '-w', out, src], {
      env: { ...process.env, SOURCE_DATE_EPOCH, PYTHONDONTWRITEBYTECODE: '1' },
      cwd: dirname(src),
      maxBuffer: 16 * 1024 * 1024,
    });
  } catch (error) {
    const e = error as { stderr?: string; message: string };
    throw new Error(
      `Could not build the block library's wheel (${BLOCK_LIBRARY_WHEEL_NAME}) from ${libraryDir} with ${python}: ${(e.stderr || e.message).trim()}\n` +
        'That Python needs pip and setuptools (pinned in blocks/python/constraints.txt; scripts/python-env.sh installs them).',
    );
  }
  if (!existsSync(join(out, BLOCK_LIBRARY_WHEEL_NAME))) {
    throw new Error(`Building the block library from ${libraryDir} made ${readdirSync(out).join(', ') || 'nothing'}, not ${BLOCK_LIBRARY_WHEEL_NAME}: does pyproject.toml name the project constellation-blocks?`);
  }
}

/** The sources hash the stamp beside `wheel` records; null without one. */
function stampOf(wheel: string): string | null {
  const stamp = join(dirname(wheel), STAMP_NAME);
  return existsSync(wheel) && existsSync(stamp) ? readFileSync(stamp, 'utf8').trim() : null;
}

function clearAbandonedBuilds(wheelsDir: string): void {
  for (const entry of readdirSync(wheelsDir)) {
    const path = join(wheelsDir, entry);
    if (entry.startsWith('.build-') && Date.now() - statSync(path).mtimeMs > ABANDONED_BUILD_MS) rmSync(path, { recursive: true, force: true });
  }
}

/** `version = "…"` of pyproject.toml's [project] table. */
function projectVersion(pyproject: string): string {
  const project = /^\[project\]\s*$([\s\S]*?)(?=^\[|(?![\s\S]))/m.exec(pyproject)?.[1] ?? '';
  const version = /^version\s*=\s*"([^"]+)"\s*$/m.exec(project)?.[1];
  if (!version) throw new Error(`blocks/python/pyproject.toml: [project] has no version = "…" line`);
  return version;
}

