import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../src/config.ts';
import { createLogger } from '../src/logger.ts';

describe('config', () => {
  it('defaults to the embedded setup: port 8000, data in .data, no Postgres', () => {
    expect(loadConfig({})).toMatchObject({ PORT: 8000, DATA_DIR: '.data', LOG_LEVEL: 'info' });
    expect(loadConfig({}).DATABASE_URL).toBeUndefined();
  });

  it('names every bad variable and why', () => {
    const read = () => loadConfig({ PORT: 'eighty', DATABASE_URL: 'mysql://x', LOG_LEVEL: 'loud' });
    expect(read).toThrow(ConfigError);
    expect(read).toThrow(/PORT:[\s\S]*DATABASE_URL: must be a postgres:\/\/[\s\S]*LOG_LEVEL/);
  });

  it('treats an empty variable as unset', () => {
    expect(loadConfig({ PORT: '', DATABASE_URL: '' })).toMatchObject({ PORT: 8000 });
  });
});

describe('logs', () => {
  it('are JSON lines with secrets and prompts blanked', () => {
    const lines: string[] = [];
    const sink = new Writable({ write: (chunk, _e, done) => (lines.push(String(chunk)), done()) });
    const log = createLogger('info', sink).child({ request_id: 'r-1' });
    log.info({ password: 'hunter2', headers: { authorization: 'Bearer abc' }, prompt: 'my secret plan', table: 'customers' }, 'hello');
    const entry = JSON.parse(lines[0]!);
    expect(entry).toMatchObject({ request_id: 'r-1', table: 'customers', password: '[redacted]', prompt: '[redacted]', msg: 'hello' });
    expect(entry.headers.authorization).toBe('[redacted]');
    expect(lines[0]).not.toMatch(/hunter2|Bearer abc|secret plan/);
  });
});
