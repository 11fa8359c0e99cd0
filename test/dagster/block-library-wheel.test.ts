import { execFileSync } from 'node:child_process';
import { chmodSync, cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BLOCK_LIBRARY_WHEEL_NAME, BLOCK_LIBRARY_WHEELS_DIR, blockLibraryHash, ensureBlockLibraryWheel } from '../../src/dagster/block-library-wheel.ts';
import { DEFAULT_PYTHON } from '../../src/dagster/environments.ts';

const LIBRARY = resolve(import.meta.dirname, '../../blocks/python');

/** A file of the wheel, read with Python's zipfile: the wheel is a real zip that pip can read. */
const member = (wheel: string, path: string) =>
  execFileSync(DEFAULT_PYTHON, ['-c', 'import sys, zipfile; sys.stdout.write(zipfile.ZipFile(sys.argv[1]).read(sys.argv[2]).decode())', wheel, path], { encoding: 'utf8' });

describe("the block library's wheel in a workspace", () => {
  let root: string;
  let library: string;
  /** The real Python behind a script that counts its runs: how many builds happened. */
  let python: string;
  let runs: string;
  const builds = () => (existsSync(runs) ? readFileSync(runs, 'utf8').split('\n').filter(Boolean).length : 0);
  const source = () => join(library, 'constellation_blocks', 'watermark.py');

  beforeAll(() => {
    root = mkdtempSync(join(tmpdir(), 'block-wheel-'));
    // A copy of the library: the test edits its sources.
    library = join(root, 'library');
    cpSync(join(LIBRARY, 'pyproject.toml'), join(library, 'pyproject.toml'));
    cpSync(join(LIBRARY, 'constellation_blocks'), join(library, 'constellation_blocks'), { recursive: true, filter: (path) => !path.includes('__pycache__') });
    runs = join(root, 'runs.log');
    python = join(root, 'counting-python');
    writeFileSync(python, `#!/bin/sh\necho build >> '${runs}'\nexec '${DEFAULT_PYTHON}' "$@"\n`);
    chmodSync(python, 0o755);
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('is built once into <workspace>/wheels, a wheel pip can read, and reused while the sources are unchanged', async () => {
    const workspace = join(root, 'ws-a');
    const [first, second] = await Promise.all([ensureBlockLibraryWheel(workspace, python, library), ensureBlockLibraryWheel(workspace, python, library)]);
    expect(first).toBe(join(workspace, BLOCK_LIBRARY_WHEELS_DIR, BLOCK_LIBRARY_WHEEL_NAME));
    expect(second).toBe(first);
    expect(builds()).toBe(1);
    expect(member(first, 'constellation_blocks-0.1.0.dist-info/METADATA')).toMatch(/^Requires-Dist: dagster<1\.14,>=1\.13\.27$/m);
    expect(member(first, 'constellation_blocks/watermark.py')).toBe(readFileSync(source(), 'utf8'));
    // A Python that cannot run proves no build is attempted: the stamp says the wheel is current.
    expect(await ensureBlockLibraryWheel(workspace, '/nonexistent/python', library)).toBe(first);
    expect(builds()).toBe(1);
    expect(readdirSync(join(workspace, BLOCK_LIBRARY_WHEELS_DIR)).sort()).toEqual(['.constellation_blocks-0.1.0.sha256', BLOCK_LIBRARY_WHEEL_NAME]);
  });

  it('is rebuilt when a source changes, and the same bytes again when it changes back', async () => {
    const workspace = join(root, 'ws-b');
    const original = readFileSync(source(), 'utf8');
    const wheel = await ensureBlockLibraryWheel(workspace, python, library);
    const before = readFileSync(wheel);
    const hashBefore = blockLibraryHash(library);
    const started = builds();

    writeFileSync(source(), `${original}\n# edited by the test\n`);
    expect(blockLibraryHash(library)).not.toBe(hashBefore);
    await ensureBlockLibraryWheel(workspace, python, library);
    expect(builds()).toBe(started + 1);
    expect(member(wheel, 'constellation_blocks/watermark.py')).toContain('# edited by the test');
    expect(readFileSync(wheel).equals(before)).toBe(false);

    // Built by pip again (the wheel in place holds the edit), from the original sources: the same
    // bytes as the first time, so a wheel's hash says which sources it holds.
    writeFileSync(source(), original);
    await ensureBlockLibraryWheel(workspace, python, library);
    expect(builds()).toBe(started + 2);
    expect(readFileSync(wheel).equals(before)).toBe(true);
  });

  it('is copied, not built, into another workspace of the same process', async () => {
    const a = await ensureBlockLibraryWheel(join(root, 'ws-c1'), python, library);
    const started = builds();
    const b = await ensureBlockLibraryWheel(join(root, 'ws-c2'), python, library);
    expect(builds()).toBe(started);
    expect(readFileSync(b).equals(readFileSync(a))).toBe(true);
  });

  it('never leaves a half-written wheel: a build that fails midway leaves the wheel in place as it was', async () => {
    const workspace = join(root, 'ws-d');
    const wheel = await ensureBlockLibraryWheel(workspace, python, library);
    const good = readFileSync(wheel);
    // A Python that writes part of a wheel where pip would, then dies.
    const dying = join(root, 'dying-python');
    writeFileSync(dying, `#!/bin/sh\nwhile [ "$1" != "-w" ]; do shift; done\nmkdir -p "$2"\nprintf 'PK\\003\\004half' > "$2/${BLOCK_LIBRARY_WHEEL_NAME}"\necho 'killed while building' >&2\nexit 1\n`);
    chmodSync(dying, 0o755);
    const original = readFileSync(source(), 'utf8');
    writeFileSync(source(), `${original}\n# never built\n`);
    try {
      await expect(ensureBlockLibraryWheel(workspace, dying, library)).rejects.toThrow(/Could not build the block library's wheel .* with .*dying-python: killed while building/s);
    } finally {
      writeFileSync(source(), original);
    }
    expect(readFileSync(wheel).equals(good)).toBe(true);
    // No build folder left behind, and the stamp still names the sources of the wheel in place.
    expect(readdirSync(join(workspace, BLOCK_LIBRARY_WHEELS_DIR)).sort()).toEqual(['.constellation_blocks-0.1.0.sha256', BLOCK_LIBRARY_WHEEL_NAME]);
    await ensureBlockLibraryWheel(workspace, '/nonexistent/python', library);

    // A first build that fails leaves no wheel at all.
    const fresh = join(root, 'ws-e');
    writeFileSync(source(), `${original}\n# never built either\n`);
    try {
      await expect(ensureBlockLibraryWheel(fresh, dying, library)).rejects.toThrow(/killed while building/);
    } finally {
      writeFileSync(source(), original);
    }
    expect(readdirSync(join(fresh, BLOCK_LIBRARY_WHEELS_DIR))).toEqual([]);
  });
});
