"""The DuckDB load block's modes, called directly with rows built by hand."""

from datetime import datetime, timezone
from decimal import Decimal

import dagster as dg
import duckdb
import pytest

from constellation_blocks import block_types
from constellation_blocks.duckdb import load_table
from constellation_blocks.pipeline import Block
from constellation_blocks.rows import ExtractedRows

COLUMNS = ["id", "name", "balance", "seen_at"]
TYPES = ["bigint", "text", "numeric(12,2)", "timestamp with time zone"]
WHEN = datetime(2024, 5, 1, 12, 30, 15, 123456, tzinfo=timezone.utc)


def rows(*items: tuple, watermark: datetime | None = WHEN) -> ExtractedRows:
    return ExtractedRows(
        table="public.customers",
        columns=COLUMNS,
        rows=[(i, name, Decimal(balance), WHEN) for i, name, balance in items],
        primary_key=["id"],
        previous_watermark=None,
        watermark=watermark,
        column_types=TYPES,
        nullable=[False, True, True, True],
        source="extract_customers",
    )


def block(path, **config) -> Block:
    config = {"database_path": str(path), "table": "main.customers", **config}
    return Block("load_x", "duckdb_load@1", "Load x", None, block_types.with_defaults("duckdb_load@1", config), [])


def table(path, name="main.customers"):
    with duckdb.connect(str(path), read_only=True) as con:
        return con.execute(f"SELECT id, name, balance FROM {name} ORDER BY id, name").fetchall()


@pytest.fixture
def db(tmp_path):
    return tmp_path / "nested" / "warehouse.duckdb"


def test_append_is_the_default_and_keeps_every_copy(db):
    load_table(dg.build_asset_context(), block(db), rows((1, "a", "1.50"), (2, "b", "2.00")))
    result = load_table(dg.build_asset_context(), block(db), rows((2, "b2", "3.00")))
    assert table(db) == [(1, "a", Decimal("1.50")), (2, "b", Decimal("2.00")), (2, "b2", Decimal("3.00"))]
    assert result.value["mode"] == "append" and result.value["rows_written"] == 1
    assert result.metadata["dagster/row_count"].value == 3
    assert result.metadata["constellation/watermark"].value == WHEN.isoformat()


def test_replace_recreates_the_table_from_the_input(db):
    load_table(dg.build_asset_context(), block(db, mode="replace"), rows((1, "a", "1.50"), (2, "b", "2.00")))
    load_table(dg.build_asset_context(), block(db, mode="replace"), rows((3, "c", "0.10")))
    assert table(db) == [(3, "c", Decimal("0.10"))]


def test_merge_upserts_on_the_primary_key(db):
    merge = block(db, mode="merge", primary_key=["id"])
    load_table(dg.build_asset_context(), merge, rows((1, "a", "1.50"), (2, "b", "2.00")))
    load_table(dg.build_asset_context(), merge, rows((2, "b2", "3.00"), (3, "c", "0.10")))
    load_table(dg.build_asset_context(), merge, rows((2, "b2", "3.00")))  # a re-sent row changes nothing
    assert table(db) == [(1, "a", Decimal("1.50")), (2, "b2", Decimal("3.00")), (3, "c", Decimal("0.10"))]
    with duckdb.connect(str(db), read_only=True) as con:
        types = dict(con.execute("SELECT column_name, data_type FROM information_schema.columns WHERE table_name = 'customers'").fetchall())
        [(seen_at,)] = con.execute("SELECT DISTINCT epoch_us(seen_at) FROM main.customers").fetchall()
    assert types == {"id": "BIGINT", "name": "VARCHAR", "balance": "DECIMAL(12,2)", "seen_at": "TIMESTAMP WITH TIME ZONE"}
    assert seen_at == int(WHEN.timestamp() * 1_000_000)


def test_merge_without_primary_key_fails_clearly(db):
    with pytest.raises(ValueError, match=r'mode "merge" needs primary_key'):
        load_table(dg.build_asset_context(), block(db, mode="merge"), rows((1, "a", "1.50")))
    assert not db.exists()


def test_a_failed_merge_leaves_the_table_as_it_was(db):
    merge = block(db, mode="merge", primary_key=["id"])
    load_table(dg.build_asset_context(), merge, rows((1, "a", "1.50")))
    bad = rows((1, "changed", "9.99"))
    bad.columns = ["id", "name", "balance", "not_a_column"]
    with pytest.raises(ValueError, match="has no column"):
        load_table(dg.build_asset_context(), merge, bad)
    assert table(db) == [(1, "a", Decimal("1.50"))]


def test_schema_qualified_table_and_several_inputs(db):
    first = rows((1, "a", "1.50"))
    second = rows((2, "b", "2.00"), watermark=datetime(2024, 6, 1, tzinfo=timezone.utc))
    second.source = "extract_other"
    result = load_table(dg.build_asset_context(), block(db, table="analytics.customers"), [first, second])
    assert table(db, "analytics.customers") == [(1, "a", Decimal("1.50")), (2, "b", Decimal("2.00"))]
    # Each input's watermark is kept under its own key; no single one stands for both.
    assert "constellation/watermark" not in result.metadata
    assert result.metadata["constellation/watermark/extract_other"].value == "2024-06-01T00:00:00+00:00"


def test_empty_input_records_no_watermark(db):
    result = load_table(dg.build_asset_context(), block(db), rows(watermark=None))
    assert result.value["rows_written"] == 0 and "constellation/watermark" not in result.metadata
    assert table(db) == []


def test_rejects_what_is_not_extracted_rows(db):
    with pytest.raises(TypeError, match="ExtractedRows"):
        load_table(dg.build_asset_context(), block(db), [{"id": 1}])
