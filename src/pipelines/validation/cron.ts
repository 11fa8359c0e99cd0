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

/** An IANA zone name spelled exactly as Dagster (Python's zoneinfo) looks it up. */
export function isTimeZone(name: string): boolean {
  // Intl also takes UTC offsets ("+01:00") and any letter case ("europe/berlin"); zoneinfo
  // takes neither. An alias ("EST", "Asia/Calcutta") resolves to another name and is fine.
  if (/^[+-]/.test(name)) return false;
  try {
    const resolved = new Intl.DateTimeFormat('en-US', { timeZone: name }).resolvedOptions().timeZone;
    return resolved === name || resolved.toLowerCase() !== name.toLowerCase();
  } catch {
    return false;
  }
}
