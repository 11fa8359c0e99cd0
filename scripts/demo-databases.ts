// npm run demo:databases: the flagship's two databases for the README's walkthrough, throwaway and
// on loopback — a PostgreSQL with a `customers` table to read and an empty ClickHouse to fill —
// started the way the tests start theirs (Debian's postgresql and clickhouse-server packages).
// Prints the two secrets to export in the service's and Dagster's shells; Ctrl-C removes both.
import pg from 'pg';
import { startClickHouse } from '../test/support/clickhouse-server.ts';
import { startPostgres } from '../test/support/postgres-server.ts';

const CUSTOMERS = Number(process.env.DEMO_CUSTOMERS ?? 25);

const postgres = await startPostgres().catch((error: Error) => {
  process.stderr.write(`${error.message}\n(install them with: sudo apt-get install -y postgresql clickhouse-server — npm test does it when run as root)\n`);
  process.exit(1);
});
const clickhouse = await startClickHouse().catch(async (error: Error) => {
  await postgres.stop();
  process.stderr.write(`${error.message}\n(install it with: sudo apt-get install -y clickhouse-server)\n`);
  process.exit(1);
});

const admin = new pg.Client({ connectionString: postgres.url });
await admin.connect();
await admin.query('CREATE DATABASE shop');
await admin.end();
const shopUrl = new URL(postgres.url);
shopUrl.pathname = '/shop';
const shop = new pg.Client({ connectionString: shopUrl.toString() });
await shop.connect();
await shop.query(`CREATE TABLE customers (
  id bigint PRIMARY KEY, name text NOT NULL, email text, score double precision,
  created_at timestamp NOT NULL, updated_at timestamp NOT NULL)`);
await shop.query(
  `INSERT INTO customers SELECT i, 'customer ' || i, 'c' || i || '@example.com', i * 1.5,
     now() - (100 - i) * interval '1 hour', now() - (100 - i) * interval '1 hour'
   FROM generate_series(1, $1) AS i`,
  [CUSTOMERS],
);
await shop.end();

process.stdout.write(
  `PostgreSQL (shop, ${CUSTOMERS} customers) and ClickHouse are running on loopback. In the service's shell and in Dagster's:\n\n` +
    `export POSTGRES_URL='${shopUrl}'\n` +
    `export CLICKHOUSE_URL='${clickhouse.url}'\n\n` +
    `Rows in ClickHouse: curl '${clickhouse.httpUrl}/?query=SELECT+count()+FROM+default.customers'\n` +
    'Ctrl-C stops both and removes their data.\n',
);

const stop = async () => {
  await clickhouse.stop();
  await postgres.stop();
  process.exit(0);
};
process.once('SIGINT', stop);
process.once('SIGTERM', stop);
setInterval(() => undefined, 1 << 30);
