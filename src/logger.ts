import { pino, type Logger, type DestinationStream } from 'pino';
import pretty from 'pino-pretty';

export type { Logger };

// Anything that may carry a secret or a user's prompt is blanked wherever it appears.
const REDACT = [
  'password', '*.password', 'secret', '*.secret', 'token', '*.token', 'apiKey', '*.apiKey',
  'authorization', '*.authorization', 'headers.authorization', 'headers.cookie', '*.headers.authorization',
  'databaseUrl', '*.databaseUrl', 'DATABASE_URL', '*.DATABASE_URL', 'redisUrl', '*.redisUrl', 'REDIS_URL', '*.REDIS_URL',
  'prompt', '*.prompt',
];

export type LogFormat = 'json' | 'pretty';

/**
 * JSON lines for machines; a person at a terminal reads one line per event, with a level name and
 * local time. LOG_FORMAT=auto (the default) decides by whether stderr is a terminal.
 */
export function logFormat(setting: 'auto' | LogFormat, stderrIsTty: boolean): LogFormat {
  return setting === 'auto' ? (stderrIsTty ? 'pretty' : 'json') : setting;
}

/** Logs to stderr by default, so stdout stays free for protocols (MCP stdio). */
export function createLogger(level: string, destination?: DestinationStream, format: LogFormat = 'json'): Logger {
  const out =
    destination ??
    (format === 'pretty'
      ? pretty({ destination: 2, sync: true, colorize: true, singleLine: true, translateTime: 'SYS:HH:MM:ss', ignore: 'pid,hostname,service' })
      : pino.destination(2));
  return pino({ level, base: { service: 'constellation-agent' }, redact: { paths: REDACT, censor: '[redacted]' } }, out);
}
