import { spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '../..');

/**
 * scripts/python-env.sh (what `npm run dagster` and `npm test` run first) with a stand-in Python
 * whose "pip install" takes a few seconds: what a person sees while the real one takes a minute.
 */
describe('setting up the Python environment', () => {
  const dir = mkdtempSync(join(tmpdir(), 'python-env-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const fakePython = join(dir, 'python3');
  // `python3 -m venv DIR` makes DIR/bin/python and a pip that sleeps, then succeeds or fails.
  writeFileSync(
    fakePython,
    `#!/bin/sh
[ "$1" = "-m" ] && [ "$2" = "venv" ] || exit 2
mkdir -p "$3/bin"
printf '#!/bin/sh\\n' > "$3/bin/python"
printf '#!/bin/sh\\nsleep 3\\nexit \${FAKE_PIP_STATUS:-0}\\n' > "$3/bin/pip"
chmod +x "$3/bin/python" "$3/bin/pip"
`,
  );
  chmodSync(fakePython, 0o755);

  const run = (venv: string, env: Record<string, string> = {}) =>
    new Promise<{ code: number | null; stdout: string; stderr: string }>((done) => {
      const child = spawn('bash', [join(ROOT, 'scripts/python-env.sh')], {
        cwd: ROOT,
        env: { PATH: process.env.PATH ?? '', PYTHON: fakePython, PYTHON_ENV_DIR: venv, PYTHON_ENV_PROGRESS_SECONDS: '1', ...env },
      });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d: Buffer) => (stdout += String(d)));
      child.stderr.on('data', (d: Buffer) => (stderr += String(d)));
      child.on('exit', (code) => done({ code, stdout, stderr }));
    });

  it('says what it installs, that it is still at it while pip is silent, and when it is done; then skips', async () => {
    const venv = join(dir, 'venv');
    const first = await run(venv);
    expect(first.code, first.stderr).toBe(0);
    const lines = first.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^setting up the Python environment in .*: dagster==\d+\.\d+\.\d+ and the block library/);
    expect(lines.filter((l) => /still installing Python packages\.\.\. \(\d+ s\)/.test(l)).length).toBeGreaterThanOrEqual(1);
    expect(lines.at(-1)).toMatch(/^Python environment ready in \d+ s$/);
    expect(existsSync(join(venv, '.stamp'))).toBe(true);

    // Nothing changed: nothing to say, nothing to install.
    const again = await run(venv);
    expect(again).toEqual({ code: 0, stdout: '', stderr: '' });
  }, 30_000);

  it('a failed install exits non-zero, says so, and leaves no stamp (the next run tries again)', async () => {
    const venv = join(dir, 'failing');
    const result = await run(venv, { FAKE_PIP_STATUS: '1' });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('pip could not install the Python environment');
    expect(existsSync(join(venv, '.stamp'))).toBe(false);
    expect(readFileSync(join(venv, 'bin/pip'), 'utf8')).toContain('sleep');
  }, 30_000);
});
