import { pino, type Logger, type DestinationStream } from 'pino';

export type { Logger };

// Anything that may carry a secret or a user's prompt is blanked wherever it appears.
const REDACT = [
  'password', '*.password', 'secret', '*.secret', 'token', '*.token', 'apiKey', '*.apiKey',
  'authorization', '*.authorization', 'headers.authorization', 'headers.cookie', '*.headers.authorization',
  'databaseUrl', '*.databaseUrl', 'DATABASE_URL', '*.DATABASE_URL', 'prompt', '*.prompt',
];

/** JSON logs to stderr by default, so stdout stays free for protocols (MCP stdio). */
export function createLogger(level: string, destination?: DestinationStream): Logger {
  return pino(
    { level, base: { service: 'constellation-agent' }, redact: { paths: REDACT, censor: '[redacted]' } },
    destination ?? pino.destination(2),
  );
}
