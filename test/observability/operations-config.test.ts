import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.ts';

describe('operations settings', () => {
  it('defaults: no metrics token (loopback only), a 20 s drain', () => {
    const config = loadConfig({});
    expect(config.METRICS_TOKEN).toBeUndefined();
    expect(config.SHUTDOWN_DRAIN_SECONDS).toBe(20);
  });

  it('refuses a short METRICS_TOKEN and a drain that is not a whole number of seconds, naming each', () => {
    expect(() => loadConfig({ METRICS_TOKEN: 'short', SHUTDOWN_DRAIN_SECONDS: 'soon' })).toThrow(/METRICS_TOKEN: must be at least 16 characters[\s\S]*SHUTDOWN_DRAIN_SECONDS/);
  });
});
