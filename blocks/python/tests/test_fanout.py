"""One extract feeding ClickHouse and DuckDB: hostile values, and the oldest sink holding the watermark."""

import json
from datetime import timedelta

import dagster as dg
import duckdb
import psycopg
import pytest

import customers
from customers import T0
from constellation_blocks.identifiers import clickhouse_quote, duckdb_quote
from constellation_blocks.watermark import committed_watermark

HOSTILE = [
    "'; DROP TABLE x; --",
    "Robert'); DROP TABLE customers;--",
    "quote ' and \"double\" and ''",
    "new\nline\r\nand crlf",
    "back\\slash \\n \\' \\\\ \\",
    "tab\there",
    "Zoë 🚀 中文 עברית ﷽",
    "`backtick` ${jndi:x} %s %(name)s {0} ?",
    "\x01\x7f control",
    "",
]
ODD_COLUMN = 'note `x` "y"'


@pytest.fixture
def fanout(load_location, pg_url, clickhouse_server_url, ch_database, tmp_path, monkeypatch):
    monkeypatch.setenv("SOURCE_DB_URL", pg_url)
    monkeypatch.setenv("WAREHOUSE_URL", clickhouse_server_url)
    warehouse = str(tmp_path / "warehouse.duckdb")
    module = load_location(
        "fanout_location",
        load_customers={"database": ch_database},
        load_customers_duckdb={"database_path": warehouse},
    )
    return module, warehouse


def test_hostile_values_round_trip_into_clickhouse_and_duckdb(fanout, instance, pg_url, ch, ch_database):
    module, warehouse = fanout
    customers.create(pg_url)
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute(f"ALTER TABLE public.customers ADD COLUMN {psycopg.sql.Identifier(ODD_COLUMN).as_string(conn)} text")
    profile = {"k'ey": "v\"al\n", "nested": ["'; DROP TABLE x; --", "\\"], "ünï": "🚀"}
    customers.insert(
        pg_url,
        [
            {"id": i, "name": text, "email": None if i == 3 else text, "profile": profile, "created_at": T0 + timedelta(seconds=i)}
            for i, text in enumerate(HOSTILE, start=1)
        ],
    )
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute(
            f"UPDATE public.customers SET {psycopg.sql.Identifier(ODD_COLUMN).as_string(conn)} = name || ' (note)'"
        )

    customers.run(module, instance)

    expected = [(i, text, None if i == 3 else text, text + " (note)") for i, text in enumerate(HOSTILE, start=1)]
    in_clickhouse = ch.execute(
        f"SELECT id, name, email, {clickhouse_quote(ODD_COLUMN)}, profile FROM {ch_database}.customers FINAL ORDER BY id"
    )
    assert [row[:4] for row in in_clickhouse] == expected
    assert all(json.loads(row[4]) == profile for row in in_clickhouse)

    with duckdb.connect(warehouse, read_only=True) as con:
        in_duckdb = con.execute(
            f"SELECT id, name, email, {duckdb_quote(ODD_COLUMN)}, profile FROM main.customers ORDER BY id"
        ).fetchall()
    assert [row[:4] for row in in_duckdb] == expected
    assert all(json.loads(row[4]) == profile for row in in_duckdb)

    # Postgres is untouched by any of it.
    with psycopg.connect(pg_url) as conn:
        assert conn.execute("SELECT count(*) FROM public.customers").fetchone()[0] == len(HOSTILE)


def test_the_oldest_sink_watermark_wins(fanout, instance, pg_url, ch, ch_database, monkeypatch, closed_port_url, clickhouse_server_url):
    module, warehouse = fanout
    customers.seed_ten(pg_url)
    customers.run(module, instance)
    block = module.pipeline.block("extract_customers")
    first_watermark = committed_watermark(instance, block)

    customers.insert(pg_url, [{"id": 11, "created_at": T0 + timedelta(hours=5)}])
    monkeypatch.setenv("WAREHOUSE_URL", closed_port_url)
    failed = customers.run(module, instance, raise_on_error=False)
    assert not failed.success
    # DuckDB stored row 11 and moved on; ClickHouse did not, so the extract must wait for it.
    duck = instance.get_latest_materialization_event(dg.AssetKey("load_customers_duckdb"))
    assert duck.run_id == failed.run_id
    assert duck.asset_materialization.metadata["constellation/watermark"].value == (T0 + timedelta(hours=5)).isoformat()
    assert committed_watermark(instance, block) == first_watermark

    monkeypatch.setenv("WAREHOUSE_URL", clickhouse_server_url)
    customers.run(module, instance)
    assert [r[0] for r in customers.clickhouse_rows(ch, ch_database)] == list(range(1, 12))
    with duckdb.connect(warehouse, read_only=True) as con:
        # Merge mode absorbed the re-sent rows: every id once.
        assert con.execute("SELECT id FROM main.customers ORDER BY id").fetchall() == [(i,) for i in range(1, 12)]
    assert committed_watermark(instance, block) == T0 + timedelta(hours=5)
