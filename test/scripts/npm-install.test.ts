import { spawnSync } from 'node:child_process';
import { delimiter, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '../..');

/**
 * `npm install` as a newcomer types it: with the machine's own Node and npm, not the Node 24 the
 * npm scripts put first on PATH. npm checks every package's `engines` against the Node running npm;
 * on an older Node that is a couple of hundred EBADENGINE warnings about a Node the project never
 * runs on (its scripts run the `node` devDependency). The project's .npmrc keeps npm to errors.
 */
describe('npm install on the machine\'s own Node', () => {
  const machinePath = (process.env.PATH ?? '').split(delimiter).filter((dir) => !dir.includes('node_modules')).join(delimiter);
  const npm = (...args: string[]) => spawnSync('npm', ['install', '--dry-run', '--ignore-scripts', '--no-audit', '--no-fund', ...args], { cwd: ROOT, env: { PATH: machinePath, HOME: process.env.HOME ?? '/root' }, encoding: 'utf8' });
  const machineNodeMajor = Number(/v(\d+)/.exec(spawnSync('node', ['--version'], { env: { PATH: machinePath }, encoding: 'utf8' }).stdout)?.[1] ?? 0);

  it('prints no EBADENGINE warning (nor any other warning)', () => {
    const result = npm();
    expect(result.status, result.stderr).toBe(0);
    expect(result.stderr + result.stdout).not.toMatch(/EBADENGINE|npm warn/);
  });

  it.runIf(machineNodeMajor > 0 && machineNodeMajor < 24)('would print them without the project\'s .npmrc setting (this machine\'s Node is older than 24)', () => {
    const result = npm('--loglevel=warn');
    expect(result.stderr).toMatch(/EBADENGINE/);
  });
});
