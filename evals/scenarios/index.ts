import type { Scenario } from '../scenario.ts';
import { daily } from './daily.ts';
import { duckdb } from './duckdb.ts';
import { editHourly } from './edit-hourly.ts';
import { flagship } from './flagship.ts';
import { githubStack } from './github-stack.ts';
import { inspectFirst } from './inspect-first.ts';
import { lake } from './lake.ts';
import { lastRun } from './last-run.ts';
import { orders } from './orders.ts';
import { rollback } from './rollback.ts';
import { seedStack } from './seed-stack.ts';

/**
 * Every scenario. Those that deploy stay within what compiles (Postgres extract; ClickHouse or
 * DuckDB load; cron schedules); the stack ones (seed 004's, and seed 002's lake on daily partitions)
 * propose a spec and grade it and its validation, as does inspect-first (columns named from an
 * inspection of the source, which a stand-in answers: the eval environment has no Dagster).
 */
export const SCENARIOS: Scenario[] = [flagship, orders, duckdb, daily, editHourly, lastRun, rollback, githubStack, seedStack, lake, inspectFirst];
