import { CronExpressionParser } from 'cron-parser';

// Dagster's schedules take five-field cron and these aliases; seconds fields are not accepted.
const ALIASES = new Set(['@hourly', '@daily', '@midnight', '@weekly', '@monthly', '@yearly', '@annually']);

/** Why a cron expression is unusable for a Dagster schedule, or null when it is fine. */
export function cronProblem(expression: string): string | null {
  const trimmed = expression.trim();
  if (ALIASES.has(trimmed)) return null;
  const fields = trimmed.split(/\s+/);
  if (fields.length !== 5) {
    return `has ${fields.length} field${fields.length === 1 ? '' : 's'}; a Dagster cron has five: minute hour day-of-month month day-of-week`;
  }
  try {
    CronExpressionParser.parse(trimmed, { tz: 'UTC' });
    return null;
  } catch (error) {
    return (error as Error).message;
  }
}

export function isTimeZone(name: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: name });
    return true;
  } catch {
    return false;
  }
}
