import { beforeEach } from 'vitest';

// A test that prints has leaked output the service should have logged (or not made at all).
beforeEach(() => {
  for (const method of ['log', 'info', 'warn', 'error', 'debug'] as const) {
    console[method] = (...args: unknown[]) => {
      throw new Error(`console.${method} called during a test: ${args.map(String).join(' ').slice(0, 200)}`);
    };
  }
});
