"""Postgres → ClickHouse through the generated customers location, against real servers."""

from datetime import timedelta

import dagster as dg
import pytest

import customers
from customers import T0
from constellation_blocks.watermark import committed_watermark


@pytest.fixture
def location(load_location, pg_url, clickhouse_server_url, ch_database, monkeypatch):
    """The customers location reading a fresh Postgres database into a fresh ClickHouse one."""
    monkeypatch.setenv("SOURCE_DB_URL", pg_url)
    monkeypatch.setenv("WAREHOUSE_URL", clickhouse_server_url)
    customers.seed_ten(pg_url)

    def load(**extract_config):
        return load_location(
            "customers_location", load_customers={"database": ch_database}, extract_customers=extract_config
        )

    return load


def test_initial_load_then_only_new_and_changed_rows(location, instance, pg_url, ch, ch_database):
    module = location()

    first = customers.run(module, instance)
    meta = customers.extract_metadata(first)
    assert (meta["total_rows"], meta["new_rows"], meta["changed_rows"], meta["initial_load"]) == (10, 10, 0, True)
    assert meta["constellation/previous_watermark"] is None
    assert meta["constellation/watermark"] == (T0 + timedelta(minutes=30)).isoformat()
    assert [r[0] for r in customers.clickhouse_rows(ch, ch_database)] == list(range(1, 11))

    # Two updates (id 1 holds the watermark stamp, id 5 does not) and three inserts.
    customers.update(pg_url, [1, 5], T0 + timedelta(hours=1), name="renamed")
    customers.insert(pg_url, [{"id": i, "created_at": T0 + timedelta(hours=2, seconds=i)} for i in (11, 12, 13)])

    second = customers.run(module, instance)
    meta = customers.extract_metadata(second)
    assert (meta["total_rows"], meta["new_rows"], meta["changed_rows"], meta["initial_load"]) == (5, 3, 2, False)
    assert meta["constellation/previous_watermark"] == (T0 + timedelta(minutes=30)).isoformat()
    extracted = second.output_for_node("extract_customers")
    assert sorted(row[0] for row in extracted.rows) == [1, 5, 11, 12, 13]

    rows = customers.clickhouse_rows(ch, ch_database)
    assert [r[0] for r in rows] == list(range(1, 14))  # every key once after FINAL
    names = {r[0]: r[1] for r in rows}
    assert names[1] == names[5] == "renamed" and names[2] == "customer 2"
    sink = second.asset_materializations_for_node("load_customers")[0].metadata
    assert sink["constellation/watermark"].value == (T0 + timedelta(hours=2, seconds=13)).isoformat()
    assert sink["rows_written"].value == 5


def test_rerun_without_changes_rereads_only_the_boundary_row(location, instance, ch, ch_database):
    module = location()
    customers.run(module, instance)
    watermark = committed_watermark(instance, module.pipeline.block("extract_customers"))

    again = customers.run(module, instance)
    meta = customers.extract_metadata(again)
    # Inclusive boundary: the row stamped exactly at the watermark (id 1) is read again, nothing else.
    assert meta["total_rows"] == 1 and meta["changed_rows"] == 1 and meta["new_rows"] == 0
    assert [row[0] for row in again.output_for_node("extract_customers").rows] == [1]
    assert committed_watermark(instance, module.pipeline.block("extract_customers")) == watermark
    rows = customers.clickhouse_rows(ch, ch_database)
    assert [r[0] for r in rows] == list(range(1, 11))


def test_failed_sink_keeps_the_watermark_and_the_next_run_loads_the_rows(
    location, instance, pg_url, ch, ch_database, monkeypatch, clickhouse_server_url, closed_port_url
):
    module = location()
    first = customers.run(module, instance)
    block = module.pipeline.block("extract_customers")
    watermark = committed_watermark(instance, block)
    assert watermark == T0 + timedelta(minutes=30)

    # A late row stamped exactly at the watermark, a later one, and an update.
    customers.insert(pg_url, [{"id": 20, "created_at": watermark}, {"id": 21, "created_at": T0 + timedelta(hours=3)}])
    customers.update(pg_url, [2], T0 + timedelta(hours=3), name="changed while the sink was down")

    monkeypatch.setenv("WAREHOUSE_URL", closed_port_url)
    failed = customers.run(module, instance, raise_on_error=False)
    assert not failed.success
    assert customers.extract_metadata(failed)["total_rows"] == 4  # ids 1 (boundary), 2, 20, 21
    latest_sink = instance.get_latest_materialization_event(dg.AssetKey("load_customers"))
    assert latest_sink.run_id == first.run_id
    assert committed_watermark(instance, block) == watermark

    monkeypatch.setenv("WAREHOUSE_URL", clickhouse_server_url)
    recovered = customers.run(module, instance)
    assert sorted(row[0] for row in recovered.output_for_node("extract_customers").rows) == [1, 2, 20, 21]
    rows = customers.clickhouse_rows(ch, ch_database)
    assert [r[0] for r in rows] == [*range(1, 11), 20, 21]
    assert dict((r[0], r[1]) for r in rows)[2] == "changed while the sink was down"
    assert committed_watermark(instance, block) == T0 + timedelta(hours=3)


def test_identical_timestamps_larger_than_a_batch_are_read_once(location, instance, pg_url):
    customers.insert(pg_url, [{"id": i, "created_at": T0 + timedelta(days=1)} for i in range(100, 125)])
    module = location(batch_size=4)

    first = customers.run(module, instance)
    ids = [row[0] for row in first.output_for_node("extract_customers").rows]
    assert sorted(ids) == [*range(1, 11), *range(100, 125)] and len(ids) == len(set(ids))

    # All 25 rows sit on the new watermark: the next run reads each of them exactly once more.
    again = customers.run(module, instance)
    ids = [row[0] for row in again.output_for_node("extract_customers").rows]
    assert ids == list(range(100, 125))
    assert customers.extract_metadata(again)["total_rows"] == 25


def test_clickhouse_table_types_and_nullable_columns(location, instance, ch, ch_database):
    customers.run(location(), instance)
    types = dict(ch.execute(
        "SELECT name, type FROM system.columns WHERE database = %(d)s AND table = 'customers'", {"d": ch_database}
    ))
    assert types == {
        "id": "Int64",
        "name": "String",
        "email": "Nullable(String)",
        "balance": "Nullable(Float64)",
        "active": "UInt8",
        "profile": "Nullable(String)",
        "created_at": "DateTime('UTC')",
        "updated_at": "DateTime('UTC')",
    }
    [(engine,)] = ch.execute("SELECT engine_full FROM system.tables WHERE database = %(d)s AND name = 'customers'", {"d": ch_database})
    assert engine.startswith("ReplacingMergeTree(updated_at)") and "ORDER BY id" in engine
    # id 4 was never updated: the version column, which cannot be Nullable, holds its zero.
    [(updated,)] = ch.execute(f"SELECT toUnixTimestamp(updated_at) FROM {ch_database}.customers WHERE id = 4")
    assert updated == 0


def test_missing_table_without_create_permission_fails_clearly(load_location, pg_url, clickhouse_server_url, ch_database, instance, monkeypatch):
    monkeypatch.setenv("SOURCE_DB_URL", pg_url)
    monkeypatch.setenv("WAREHOUSE_URL", clickhouse_server_url)
    customers.seed_ten(pg_url)
    module = load_location("customers_location", load_customers={"database": ch_database, "create_table_if_missing": False})
    result = customers.run(module, instance, raise_on_error=False)
    assert not result.success
    [failure] = [e for e in result.all_events if e.event_type == dg.DagsterEventType.STEP_FAILURE]
    assert "create_table_if_missing is false" in failure.event_specific_data.error.cause.message
