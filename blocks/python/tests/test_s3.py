"""s3_files@1, s3_files_write@1 and files_to_table@1 against a real S3-compatible server (moto, server mode).

Pipelines are built as the compiler builds them and materialized in process; what arrives is read
back from the bucket with boto3, or from the DuckDB table a duckdb_load wrote.
"""

import io
import json

import dagster as dg
import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from constellation_blocks.component import pipeline_definitions
from constellation_blocks.pipeline import Pipeline
from constellation_blocks.s3_store import key_matcher
from pipelines import node, pipeline, run, step_error

KEYS = [
    "exports/orders/a.csv",
    "exports/orders/b.parquet",
    "exports/orders/2024/05/c.csv",
    "exports/orders/aXcsv",  # "." in a pattern is a literal dot, not "any character"
    "exports/other/d.csv",
]


def s3_config(s3, bucket: str, **extra) -> dict:
    return {"bucket": bucket, "endpoint_url": s3.url, "region": "us-east-1", **extra}


def output(result: dg.ExecuteInProcessResult, block_id: str, slug: str = "lake"):
    return result.output_for_node(node(block_id, slug))


def lake(s3, bucket: str, parse: dict | None = None, **more: tuple) -> dict:
    """landing (s3_files under "in/") → parsed (files_to_table with ``parse``), then ``more`` blocks."""
    return pipeline("lake", {
        "landing": ("s3_files@1", s3_config(s3, bucket, prefix="in/")),
        "parsed": ("files_to_table@1", parse or {}, {"files": ["landing"]}),
        **more,
    })


def load_into(warehouse, upstream: str = "parsed", **config) -> tuple:
    """A duckdb_load block writing ``upstream``'s rows into main.orders of ``warehouse``."""
    return ("duckdb_load@1", {"database_path": str(warehouse), "table": "main.orders", **config}, {"rows": [upstream]})


def put(s3, bucket: str, key: str, body: bytes | str) -> None:
    s3.client().put_object(Bucket=bucket, Key=key, Body=body.encode() if isinstance(body, str) else body)


def duckdb_rows(path, sql: str):
    with duckdb.connect(str(path), read_only=True) as con:
        return con.execute(sql).fetchall()


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        ("*.csv", ["exports/orders/a.csv"]),
        ("**/*.csv", ["exports/orders/2024/05/c.csv", "exports/orders/a.csv"]),
        ("2024/*/*.csv", ["exports/orders/2024/05/c.csv"]),
        ("**", ["exports/orders/2024/05/c.csv", "exports/orders/a.csv", "exports/orders/aXcsv", "exports/orders/b.parquet"]),
        ("*.json", []),
    ],
)
def test_lists_the_keys_under_the_prefix_that_match_the_glob(s3, bucket, instance, pattern, expected):
    for key in KEYS:
        put(s3, bucket, key, "id\n1\n")
    data = pipeline("landing", {"files": ("s3_files@1", s3_config(s3, bucket, prefix="exports/orders/", pattern=pattern))})
    result = run(data, instance)
    assert result.success
    files = output(result, "files", "landing")
    assert sorted(f["key"] for f in files) == expected
    for ref in files:
        # References only: where the object is and how to reach it, the key names but no key values.
        assert ref["uri"] == f"s3://{bucket}/{ref['key']}" and ref["size"] == 5 and ref["endpoint"] == s3.url
        assert ref["credentials"] == {"access_key_id": "AWS_ACCESS_KEY_ID", "secret_access_key": "AWS_SECRET_ACCESS_KEY"}
        assert s3.secret_access_key not in json.dumps(ref)
    [materialization] = result.asset_materializations_for_node(node("files", "landing"))
    assert materialization.metadata["files"].value == len(expected)


def test_key_globs_keep_star_within_a_segment_and_treat_regex_characters_literally():
    assert key_matcher("*.csv").fullmatch("a.csv") and not key_matcher("*.csv").fullmatch("x/a.csv")
    assert key_matcher("**/a.csv").fullmatch("a.csv") and key_matcher("**/a.csv").fullmatch("x/y/a.csv")
    assert not key_matcher("a+(b).csv").fullmatch("aab.csv") and key_matcher("a+(b).csv").fullmatch("a+(b).csv")
    assert key_matcher("part-?.csv").fullmatch("part-1.csv") and not key_matcher("part-?.csv").fullmatch("part-/.csv")


def test_a_missing_bucket_fails_the_run_naming_the_bucket_field(s3, instance):
    result = run(pipeline("landing", {"files": ("s3_files@1", s3_config(s3, "no-such-bucket"))}), instance)
    assert not result.success
    assert 'bucket "no-such-bucket" does not exist' in step_error(result)
    assert "blocks.files.config.bucket" in step_error(result)


def test_refused_keys_fail_the_run_naming_the_secret_fields(s3, bucket, instance, monkeypatch):
    monkeypatch.setenv("LANDING_KEY_ID", s3.access_key_id)
    monkeypatch.setenv("LANDING_SECRET", "not-the-secret")
    config = s3_config(s3, bucket, access_key_id_secret="LANDING_KEY_ID", secret_access_key_secret="LANDING_SECRET")
    result = run(pipeline("landing", {"files": ("s3_files@1", config)}), instance)
    assert not result.success
    error = step_error(result)
    assert "refused the keys" in error and "LANDING_KEY_ID / LANDING_SECRET" in error
    assert "blocks.files.config.secret_access_key_secret" in error
    assert "not-the-secret" not in error


def test_an_unreachable_endpoint_fails_the_run_naming_endpoint_url(s3, instance):
    config = {"bucket": "landing", "endpoint_url": "http://127.0.0.1:9", "region": "us-east-1"}
    result = run(pipeline("landing", {"files": ("s3_files@1", config)}), instance)
    assert not result.success
    assert "cannot reach http://127.0.0.1:9 (blocks.files.config.endpoint_url)" in step_error(result)


def roundtrip(s3, bucket: str, warehouse, fmt: str, **read_config) -> dict:
    """CSV in → files_to_table → s3_files_write (``fmt``) → files_to_table → duckdb_load."""
    return pipeline("lake", {
        "landing": ("s3_files@1", s3_config(s3, bucket, prefix="in/", pattern="*.csv")),
        "parsed": ("files_to_table@1", {}, {"files": ["landing"]}),
        "export": ("s3_files_write@1", s3_config(s3, bucket, prefix="out/", format=fmt), {"rows": ["parsed"]}),
        "reread": ("files_to_table@1", read_config, {"files": ["export"]}),
        "load": load_into(warehouse, "reread", mode="replace"),
    })


ORDERS_CSV = "id,customer,amount,paid,ordered_at\n1,ada,12.5,true,2024-05-01T10:00:00Z\n2,bob,7,false,2024-05-02T11:30:00Z\n3,,0.25,true,\n"


@pytest.mark.parametrize("fmt", ["parquet", "csv", "jsonl"])
def test_written_files_read_back_through_files_to_table_into_duckdb(s3, bucket, instance, tmp_path, fmt):
    put(s3, bucket, "in/orders.csv", ORDERS_CSV)
    result = run(roundtrip(s3, bucket, tmp_path / "w.duckdb", fmt), instance)
    assert result.success, step_error(result)

    [written] = output(result, "export")
    assert written["key"] == f"out/{result.run_id}.{fmt}"
    body = s3.client().get_object(Bucket=bucket, Key=written["key"])["Body"].read()
    assert len(body) == written["size"]
    if fmt == "parquet":
        assert pq.read_table(io.BytesIO(body)).column("customer").to_pylist() == ["ada", "bob", None]
    elif fmt == "csv":
        assert body.decode().splitlines()[0] == "id,customer,amount,paid,ordered_at"
    else:
        assert json.loads(body.decode().splitlines()[0])["customer"] == "ada"

    rows = duckdb_rows(tmp_path / "w.duckdb", "SELECT id, customer, amount, paid, epoch(ordered_at)::BIGINT FROM main.orders ORDER BY id")
    assert rows == [(1, "ada", 12.5, True, 1714557600), (2, "bob", 7.0, False, 1714649400), (3, None, 0.25, True, None)]


def test_parquet_keeps_the_column_types_into_duckdb(s3, bucket, instance, tmp_path):
    put(s3, bucket, "in/orders.csv", ORDERS_CSV)
    assert run(roundtrip(s3, bucket, tmp_path / "w.duckdb", "parquet"), instance).success
    types = dict(duckdb_rows(tmp_path / "w.duckdb", "SELECT column_name, data_type FROM information_schema.columns WHERE table_name = 'orders'"))
    assert types == {"id": "BIGINT", "customer": "VARCHAR", "amount": "DOUBLE", "paid": "BOOLEAN", "ordered_at": "TIMESTAMP WITH TIME ZONE"}


def test_a_declared_schema_casts_and_orders_the_columns_and_names_the_source_file(s3, bucket, instance, tmp_path):
    put(s3, bucket, "in/orders.csv", ORDERS_CSV)
    put(s3, bucket, "in/more.csv", "id,customer,amount,paid,ordered_at\n007,cy,1,true,2024-05-03T00:00:00Z\n")
    data = lake(s3, bucket, {"columns": {"customer": "string", "id": "string", "amount": "float"}, "source_file_column": "source_file"},
        load=load_into(tmp_path / "w.duckdb"),
    )
    result = run(data, instance)
    assert result.success, step_error(result)
    rows = duckdb_rows(tmp_path / "w.duckdb", "SELECT * FROM main.orders ORDER BY customer NULLS LAST")
    # Only the declared columns, in their order; "007" stays text because id is declared a string.
    assert rows == [
        ("ada", "1", 12.5, f"s3://{bucket}/in/orders.csv"),
        ("bob", "2", 7.0, f"s3://{bucket}/in/orders.csv"),
        ("cy", "007", 1.0, f"s3://{bucket}/in/more.csv"),
        (None, "3", 0.25, f"s3://{bucket}/in/orders.csv"),
    ]


def test_a_value_that_does_not_fit_its_declared_type_fails_naming_the_column(s3, bucket, instance):
    put(s3, bucket, "in/orders.csv", "id,amount\n1,12.5\nnot-a-number,3\n")
    data = lake(s3, bucket, {"columns": {"id": "integer", "amount": "float"}})
    result = run(data, instance)
    assert not result.success
    error = step_error(result)
    assert f"s3://{bucket}/in/orders.csv: column 'id' does not fit its declared type int64 (blocks.parsed.config.columns.id)" in error


def test_a_declared_column_missing_from_a_file_fails_naming_it(s3, bucket, instance):
    put(s3, bucket, "in/orders.jsonl", '{"id": 1}\n')
    data = lake(s3, bucket, {"columns": {"id": "integer", "amount": "float"}})
    result = run(data, instance)
    assert not result.success
    assert "has no column 'amount' declared in blocks.parsed.config.columns.amount" in step_error(result)


def test_inferred_types_are_unified_across_files_and_formats(s3, bucket, instance):
    put(s3, bucket, "in/a.jsonl", '{"id": 1, "score": 2}\n{"id": 2, "score": 3}\n')
    sink = io.BytesIO()
    pq.write_table(pa.table({"id": [3], "score": [4.5]}), sink)
    put(s3, bucket, "in/b.parquet", sink.getvalue())
    data = lake(s3, bucket)
    result = run(data, instance)
    assert result.success, step_error(result)
    rows = output(result, "parsed")
    assert rows.columns == ["id", "score"] and rows.column_types == ["bigint", "double precision"]
    assert sorted(rows.rows) == [(1, 2.0), (2, 3.0), (3, 4.5)]


def test_no_matching_files_give_an_empty_table_when_columns_are_declared(s3, bucket, instance, tmp_path):
    data = lake(s3, bucket, {"columns": {"id": "integer"}},
        load=load_into(tmp_path / "w.duckdb"),
    )
    result = run(data, instance)
    assert result.success, step_error(result)
    assert output(result, "landing") == []
    assert duckdb_rows(tmp_path / "w.duckdb", "SELECT count(*) FROM main.orders") == [(0,)]


def test_no_matching_files_and_no_declared_columns_fail_saying_what_to_declare(s3, bucket, instance):
    data = lake(s3, bucket)
    result = run(data, instance)
    assert not result.success
    assert "declare blocks.parsed.config.columns" in step_error(result)


def test_an_unknown_extension_asks_for_the_format(s3, bucket, instance):
    put(s3, bucket, "in/orders.txt", "id\n1\n")
    data = lake(s3, bucket)
    result = run(data, instance)
    assert not result.success
    assert "set blocks.parsed.config.format to csv, jsonl or parquet" in step_error(result)


def test_the_reader_needs_the_key_env_vars_the_listing_block_names(s3, bucket, instance, monkeypatch):
    put(s3, bucket, "in/orders.csv", ORDERS_CSV)
    data = lake(s3, bucket)
    defs = pipeline_definitions(Pipeline(data))
    listed = defs.resolve_job_def("lake__all_blocks").execute_in_process(instance=instance, asset_selection=[dg.AssetKey(["local", "lake", "landing"])])
    assert listed.success
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    result = defs.resolve_job_def("lake__all_blocks").execute_in_process(
        instance=instance, asset_selection=[dg.AssetKey(["local", "lake", "parsed"])], raise_on_error=False
    )
    assert not result.success
    assert "environment variable AWS_SECRET_ACCESS_KEY is not set" in step_error(result)


def test_a_partitioned_write_overwrites_its_partition_file(s3, bucket, instance, tmp_path):
    put(s3, bucket, "in/orders.csv", ORDERS_CSV)
    data = lake(s3, bucket, None,
        export=("s3_files_write@1", s3_config(s3, bucket, prefix="daily/", format="jsonl"), {"rows": ["parsed"]}),
    )
    data["partitions"] = {"type": "daily", "start_date": "2024-05-01", "timezone": "UTC"}
    job = pipeline_definitions(Pipeline(data)).resolve_job_def("lake__all_blocks")
    for _ in range(2):
        assert job.execute_in_process(instance=instance, partition_key="2024-05-02").success
    keys = [o["Key"] for o in s3.client().list_objects_v2(Bucket=bucket, Prefix="daily/")["Contents"]]
    assert keys == ["daily/2024-05-02.jsonl"]


def test_a_partitioned_listing_finds_only_its_partition_files(s3, bucket, instance):
    for day, count in (("2024-05-01", 2), ("2024-05-02", 3)):
        put(s3, bucket, f"events/dt={day}/part-0.csv", "id\n" + "".join(f"{i}\n" for i in range(count)))
    data = lake(s3, bucket)
    data["blocks"]["landing"]["config"].update(prefix="events/dt={partition}/", pattern="*.csv")
    data["partitions"] = {"type": "daily", "start_date": "2024-05-01", "timezone": "UTC"}
    job = pipeline_definitions(Pipeline(data)).resolve_job_def("lake__all_blocks")
    result = job.execute_in_process(instance=instance, partition_key="2024-05-02")
    assert result.success
    assert [f["key"] for f in output(result, "landing")] == ["events/dt=2024-05-02/part-0.csv"]
    assert len(output(result, "parsed").rows) == 3


def test_a_partition_placeholder_without_partitions_fails_naming_the_field(s3, bucket, instance):
    data = pipeline("landing", {"files": ("s3_files@1", s3_config(s3, bucket, prefix="events/dt={partition}/"))})
    result = run(data, instance)
    assert not result.success
    assert "blocks.files.config.prefix contains {partition} but this run has no partition" in step_error(result)
