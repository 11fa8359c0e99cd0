"""The Postgres extract on its own: config options, key shapes, naive timestamps, clear errors."""

from datetime import datetime, timedelta, timezone

import dagster as dg
import psycopg
import pytest

import customers
from customers import T0
from constellation_blocks import block_types, clickhouse, postgres
from constellation_blocks.pipeline import Block


def extract_block(downstream=(), **config) -> Block:
    config = {"table": "public.customers", "connection_secret": "SOURCE_DB_URL", **config}
    return Block(
        "extract_customers", "postgres_incremental_extract@1", "Extract customers", None,
        block_types.with_defaults("postgres_incremental_extract@1", config), list(downstream),
    )


def standalone_asset(block: Block):
    """An extract with no downstream block, as a location with only a source would define it."""

    @dg.asset(name=block.id)
    def extract(context: dg.AssetExecutionContext, source: postgres.PostgresResource):
        return postgres.incremental_extract(context, block, source)

    return extract


def materialize(asset, url, instance):
    result = dg.materialize([asset], instance=instance, resources={"source": postgres.PostgresResource(url=url)})
    return result.output_for_node(asset.op.name)


def test_without_downstream_the_extract_resumes_from_its_own_watermark(pg_url, instance):
    customers.seed_ten(pg_url)
    asset = standalone_asset(extract_block())
    assert len(materialize(asset, pg_url, instance).rows) == 10
    customers.insert(pg_url, [{"id": 11, "created_at": T0 + timedelta(hours=1)}])
    again = materialize(asset, pg_url, instance)
    assert sorted(row[0] for row in again.rows) == [1, 11]  # 1 sits on the old watermark
    assert again.previous_watermark == T0 + timedelta(minutes=30) and again.watermark == T0 + timedelta(hours=1)


def test_initial_watermark_and_column_subset(pg_url, instance):
    customers.seed_ten(pg_url)
    block = extract_block(initial_watermark="2024-01-01T00:08:00Z", columns=["id", "email"])
    rows = postgres.incremental_extract(
        dg.build_asset_context(instance=instance), block, postgres.PostgresResource(url=pg_url)
    ).value
    # id 1 (updated at 00:30), 8, 9, 10; ordered by their latest stamp, then id.
    assert [row[0] for row in rows.rows] == [8, 9, 10, 1]
    assert rows.columns == ["id", "email"] and rows.column_types == ["bigint", "text"] and rows.nullable == [False, True]
    assert rows.previous_watermark == datetime(2024, 1, 1, 0, 8, tzinfo=timezone.utc)


def test_composite_key_with_equal_stamps_pages_without_repeats(pg_url, instance):
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute(
            "CREATE TABLE events (tenant text, id int, created_at timestamptz NOT NULL, updated_at timestamptz,"
            " PRIMARY KEY (tenant, id))"
        )
        for tenant in ("a", "b", "c"):
            for i in range(7):
                conn.execute("INSERT INTO events VALUES (%s, %s, %s, NULL)", (tenant, i, T0))
    block = extract_block(table="events", primary_key=["tenant", "id"], batch_size=3)
    rows = postgres.incremental_extract(dg.build_asset_context(instance=instance), block, postgres.PostgresResource(url=pg_url)).value
    keys = [(row[0], row[1]) for row in rows.rows]
    assert keys == sorted(keys) and len(keys) == 21 and len(set(keys)) == 21


def test_timestamps_without_time_zone_stay_naive_and_load_as_utc(pg_url, instance, clickhouse_server_url, ch, ch_database):
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute("CREATE TABLE plain (id int PRIMARY KEY, created_at timestamp NOT NULL, updated_at timestamp NOT NULL)")
        conn.execute("INSERT INTO plain VALUES (1, '2024-02-03 04:05:06.789', '2024-02-03 04:05:06.789')")
    extract = extract_block(table="plain")
    rows = postgres.incremental_extract(dg.build_asset_context(instance=instance), extract, postgres.PostgresResource(url=pg_url)).value
    assert rows.watermark == datetime(2024, 2, 3, 4, 5, 6, 789000) and rows.watermark.tzinfo is None

    config = block_types.with_defaults("clickhouse_replacing_merge_tree_load@1", {"table": "plain", "database": ch_database, "order_by": ["id"]})
    load = Block("load_plain", "clickhouse_replacing_merge_tree_load@1", "Load plain", None, config, [])
    out = clickhouse.load_replacing_merge_tree(dg.build_asset_context(), load, clickhouse.ClickHouseResource(url=clickhouse_server_url), rows)
    assert out.metadata["constellation/watermark"].value == "2024-02-03T04:05:06.789000"
    [(stamp,)] = ch.execute(f"SELECT updated_at FROM {ch_database}.plain FINAL")
    assert stamp == datetime(2024, 2, 3, 4, 5, 6, tzinfo=timezone.utc)  # DateTime keeps whole seconds


def test_missing_table_and_columns_fail_clearly(pg_url, instance):
    customers.create(pg_url)
    resource = postgres.PostgresResource(url=pg_url)
    context = dg.build_asset_context(instance=instance)
    with pytest.raises(ValueError, match='table "public.nope" does not exist'):
        postgres.incremental_extract(context, extract_block(table="public.nope"), resource)
    with pytest.raises(ValueError, match=r"has no column\(s\) modified_at; it has: id, name"):
        postgres.incremental_extract(context, extract_block(updated_at_column="modified_at"), resource)
    with pytest.raises(ValueError, match="plain identifier"):
        postgres.incremental_extract(context, extract_block(table='customers"; DROP TABLE customers; --'), resource)
