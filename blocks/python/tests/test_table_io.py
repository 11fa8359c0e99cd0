"""The IO manager between assets: Parquet and JSON in a folder or an S3 bucket, never pickles."""

import json
import uuid
from datetime import date, datetime, time, timedelta, timezone
from decimal import Decimal
from pathlib import Path

import dagster as dg
import pyarrow as pa
import pytest

from constellation_blocks import table_codec, table_io
from constellation_blocks.rows import ExtractedRows

FAMILIES = {
    "id": ("bigint", 1),
    "small": ("smallint", 2),
    "ratio": ("real", 0.5),
    "score": ("double precision", 1.25),
    "price": ("numeric(10,2)", Decimal("12.34")),
    "huge": ("numeric", Decimal("123456789012345678901234567890123456789012.5")),
    "active": ("boolean", True),
    "created_at": ("timestamp with time zone", datetime(2024, 1, 2, 3, 4, 5, 6, tzinfo=timezone.utc)),
    "local_at": ("timestamp without time zone", datetime(2024, 1, 2, 3, 4, 5)),
    "day": ("date", date(2024, 1, 2)),
    "at": ("time without time zone", time(3, 4, 5)),
    "took": ("interval", timedelta(days=2, seconds=7)),
    "ref": ("uuid", uuid.UUID("12345678-1234-5678-1234-567812345678")),
    "blob": ("bytea", b"\x00\x01"),
    "doc": ("jsonb", {"a": [1, 2], "b": None}),
    "quoted": ("json", "a JSON string"),
    "tags": ("text[]", ["x", "y"]),
    "name": ("text", "Ada"),
    "mood": ("mood_enum", "happy"),
}


def all_families_rows() -> ExtractedRows:
    columns = list(FAMILIES)
    return ExtractedRows(
        table="customers",
        columns=columns,
        rows=[tuple(FAMILIES[c][1] for c in columns), tuple(None for _ in columns)],
        primary_key=["id"],
        previous_watermark=datetime(2024, 1, 1, tzinfo=timezone.utc),
        watermark=datetime(2024, 1, 2, 3, 4, 5, 6, tzinfo=timezone.utc),
        column_types=[FAMILIES[c][0] for c in columns],
        nullable=[True] * len(columns),
        source="orders_extract",
    )


def test_rows_come_back_as_written_for_every_column_family():
    rows = all_families_rows()
    back = table_codec.parquet_to_table(table_codec.table_to_parquet(rows))
    assert back == rows
    # Same values and the same Python types: a sink sees exactly what the source produced.
    assert [type(v) for v in back.rows[0]] == [type(v) for v in rows.rows[0]]


def test_an_arrow_table_and_plain_data_round_trip():
    table = pa.table({"a": [1, 2], "b": ["x", None]})
    assert table_codec.parquet_to_table(table_codec.table_to_parquet(table)).equals(table)
    refs = [{"bucket": "b", "key": "k.csv", "size": 3}]
    assert table_codec.json_to_value(table_codec.value_to_json(refs)) == refs


def test_a_value_that_is_neither_rows_nor_plain_data_is_refused_by_name():
    with pytest.raises(TypeError, match="set cannot travel between assets"):
        table_codec.value_to_json({"x": {1, 2}})


def _rows(values: list[int]) -> ExtractedRows:
    return ExtractedRows("t", ["n"], [(v,) for v in values], [], None, None, ["bigint"], [False])


def _materialize(assets, instance, **kwargs):
    return dg.materialize(assets, instance=instance, resources={"io_manager": table_io.io_manager_from_env()}, **kwargs)


def test_assets_pass_rows_as_parquet_in_the_storage_folder_and_nothing_under_dagster_home(instance, table_storage):
    @dg.asset(key=["shop", "orders"])
    def orders():
        return _rows([1, 2, 3])

    @dg.asset(key=["shop", "doubled"], ins={"orders": dg.AssetIn(key=["shop", "orders"])})
    def doubled(orders: ExtractedRows):
        return {"count": len(orders.rows), "sum": sum(r[0] for r in orders.rows) * 2}

    result = _materialize([orders, doubled], instance)
    assert result.success
    assert table_codec.parquet_to_table((table_storage / "shop" / "orders.parquet").read_bytes()) == _rows([1, 2, 3])
    assert json.loads((table_storage / "shop" / "doubled.json").read_text()) == {"count": 3, "sum": 12}
    assert pickles_under(Path(instance.root_directory)) == []


def pickles_under(folder: Path) -> list[Path]:
    """Files under ``folder`` that hold a pickle (protocol 2 and up start with 0x80 and the protocol number)."""
    return [p for p in folder.rglob("*") if p.is_file() and p.read_bytes()[:1] == b"\x80"]


def test_a_partition_has_its_own_file_and_a_rerun_replaces_only_it(instance, table_storage):
    daily = dg.DailyPartitionsDefinition(start_date="2024-01-01")
    days = {"2024-01-01": [1], "2024-01-02": [2, 3]}
    runs = {"n": 0}

    @dg.asset(key=["lake", "events"], partitions_def=daily)
    def events(context: dg.AssetExecutionContext):
        runs["n"] += 1
        return _rows(days[context.partition_key] + ([99] if runs["n"] > 2 else []))

    @dg.asset(key=["lake", "total"], ins={"events": dg.AssetIn(key=["lake", "events"])})
    def total(events: ExtractedRows):
        return sum(r[0] for r in events.rows)

    for day in days:
        assert _materialize([events], instance, partition_key=day).success
    _materialize([events], instance, partition_key="2024-01-02")
    folder = table_storage / "lake" / "events"
    assert pickles_under(Path(instance.root_directory)) == []
    assert sorted(p.name for p in folder.iterdir()) == ["2024-01-01.parquet", "2024-01-02.parquet"]
    assert table_codec.parquet_to_table((folder / "2024-01-01.parquet").read_bytes()).rows == [(1,)]
    assert table_codec.parquet_to_table((folder / "2024-01-02.parquet").read_bytes()).rows == [(2,), (3,), (99,)]
    # An unpartitioned asset downstream reads every partition of its upstream, stacked.
    assert _materialize([events.to_source_asset(), total], instance, selection=[total]).success
    assert json.loads((table_storage / "lake" / "total.json").read_text()) == 1 + 2 + 3 + 99


def test_a_missing_upstream_value_fails_naming_the_asset(instance):
    @dg.asset(key=["shop", "never"])
    def never():
        return _rows([1])

    @dg.asset(ins={"never": dg.AssetIn(key=["shop", "never"])})
    def after(never):
        return None

    result = _materialize([never.to_source_asset(), after], instance, selection=[after], raise_on_error=False)
    assert not result.success
    failure = [e for e in result.all_events if e.is_step_failure][0]
    assert "No stored value for shop/never" in failure.step_failure_data.error.message


def test_values_in_an_s3_bucket(s3, bucket, instance, monkeypatch):
    monkeypatch.setenv(table_io.STORAGE_ENV, f"s3://{bucket}/dagster")
    monkeypatch.setenv(table_io.ENDPOINT_ENV, s3.url)

    @dg.asset(key=["shop", "orders"])
    def orders():
        return _rows([5, 6])

    @dg.asset(ins={"orders": dg.AssetIn(key=["shop", "orders"])})
    def count(orders: ExtractedRows):
        return len(orders.rows)

    assert _materialize([orders, count], instance).success
    body = s3.client().get_object(Bucket=bucket, Key="dagster/shop/orders.parquet")["Body"].read()
    assert table_codec.parquet_to_table(body) == _rows([5, 6])
    assert s3.client().get_object(Bucket=bucket, Key="dagster/count.json")["Body"].read() == b"2"


def test_refused_s3_keys_name_the_settings_to_fix(s3, bucket, instance, monkeypatch):
    monkeypatch.setenv(table_io.STORAGE_ENV, f"s3://{bucket}/dagster")
    monkeypatch.setenv(table_io.ENDPOINT_ENV, s3.url)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "wrong")

    @dg.asset
    def orders():
        return _rows([1])

    result = _materialize([orders], instance, raise_on_error=False)
    failure = [e for e in result.all_events if e.is_step_failure][0]
    message = failure.step_failure_data.error.message
    assert f"s3://{bucket}/dagster/orders.parquet" in message and "AWS_SECRET_ACCESS_KEY" in message


def test_s3_storage_without_an_endpoint_is_a_clear_error(monkeypatch):
    monkeypatch.setenv(table_io.STORAGE_ENV, "s3://lake/values")
    monkeypatch.delenv(table_io.ENDPOINT_ENV, raising=False)
    with pytest.raises(ValueError, match="set CONSTELLATION_TABLE_STORAGE_ENDPOINT"):
        table_io.io_manager_from_env()
