import type { Scenario } from '../scenario.ts';
import { daily } from './daily.ts';
import { duckdb } from './duckdb.ts';
import { editHourly } from './edit-hourly.ts';
import { flagship } from './flagship.ts';
import { lastRun } from './last-run.ts';
import { orders } from './orders.ts';
import { rollback } from './rollback.ts';

/** Every scenario, each within what the block library can run (Postgres extract; ClickHouse or DuckDB load; cron schedules). */
export const SCENARIOS: Scenario[] = [flagship, orders, duckdb, daily, editHourly, lastRun, rollback];
