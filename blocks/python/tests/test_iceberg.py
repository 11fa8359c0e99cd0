"""iceberg_table_write@1 and iceberg_table_read@1 against a real S3 server (moto) as the warehouse and a SQL catalog.

The catalog is a SQLite file in tmp_path (one test also keeps it in PostgreSQL). Rows reach the
write as the library's other blocks bring them: CSV dropped in the bucket, listed by s3_files and
read by files_to_table with declared column types. What a run committed is checked with pyiceberg
directly, apart from the blocks.
"""

import datetime
import warnings

import dagster as dg
import pyarrow as pa
import pytest
from pyiceberg.catalog.sql import SqlCatalog

from constellation_blocks.component import pipeline_definitions
from constellation_blocks.pipeline import Pipeline
from pipelines import pipeline

COLUMNS = {"id": "integer", "name": "string", "day": "date", "amount": "float"}
FIRST = "id,name,day,amount\n1,ada,2024-01-01,12.5\n2,bob,2024-01-01,7\n"
SECOND = "id,name,day,amount\n3,cy,2024-01-02,1.25\n"


def table_config(s3, bucket, tmp_path, **extra) -> dict:
    return {
        "catalog_uri": f"sqlite:///{tmp_path}/catalog.db",
        "warehouse": f"s3://{bucket}/warehouse",
        "namespace": "analytics",
        "table": "orders",
        "s3_endpoint_url": s3.url,
        "region": "us-east-1",
        **extra,
    }


def lake(s3, bucket, write: dict | None, read: dict | None = None, columns: dict | None = None) -> dict:
    """landing (s3_files "in/") → parsed (files_to_table) → write (iceberg), and a read block on its own."""
    blocks = {
        "landing": ("s3_files@1", {"bucket": bucket, "endpoint_url": s3.url, "region": "us-east-1", "prefix": "in/"}),
        "parsed": ("files_to_table@1", {"columns": columns or COLUMNS}, {"files": ["landing"]}),
    }
    if write is not None:
        blocks["write"] = ("iceberg_table_write@1", write, {"rows": ["parsed"]})
    if read is not None:
        blocks["read"] = ("iceberg_table_read@1", read)
    return pipeline("ice", blocks)


def run(data: dict, instance, *blocks: str, partition_key: str | None = None) -> dg.ExecuteInProcessResult:
    """Materializes ``blocks`` (default: all but the read) in one run; the read has no edge from the write, so it runs apart."""
    chosen = blocks or tuple(b for b in data["blocks"] if b != "read")
    job = pipeline_definitions(Pipeline(data)).resolve_job_def("ice__all_blocks")
    selection = [dg.AssetKey(["local", "ice", b]) for b in chosen]
    return job.execute_in_process(instance=instance, asset_selection=selection, partition_key=partition_key, raise_on_error=False)


def put(s3, bucket, body: str) -> None:
    s3.client().put_object(Bucket=bucket, Key="in/rows.csv", Body=body.encode())


def output(result, block_id: str):
    return result.output_for_node(f"local__ice__{block_id}")


def metadata(result, block_id: str) -> dict:
    [materialization] = result.asset_materializations_for_node(f"local__ice__{block_id}")
    return {key: value.value for key, value in materialization.metadata.items()}


def step_error(result) -> str:
    [failure] = [e for e in result.all_events if e.is_step_failure]
    return failure.step_failure_data.error.to_string()


def catalog(s3, tmp_path, uri: str | None = None, **extra) -> SqlCatalog:
    return SqlCatalog(
        "default",
        uri=uri or f"sqlite:///{tmp_path}/catalog.db",
        **extra,
        **{"s3.endpoint": s3.url, "s3.access-key-id": s3.access_key_id, "s3.secret-access-key": s3.secret_access_key,
           "s3.region": "us-east-1", "s3.force-virtual-addressing": "false"},
    )


def table_rows(s3, tmp_path, uri: str | None = None) -> list[tuple]:
    table = catalog(s3, tmp_path, uri).load_table(("analytics", "orders"))
    data = table.scan().to_arrow()
    return sorted(zip(*(data.column(c).to_pylist() for c in ("id", "name", "day", "amount"))))


def ids(rows) -> list:
    return sorted(row[rows.columns.index("id")] for row in rows.rows)


def test_append_twice_then_read_every_row_with_its_types(s3, bucket, instance, tmp_path):
    config = table_config(s3, bucket, tmp_path)
    data = lake(s3, bucket, config, read={k: v for k, v in config.items() if k != "warehouse"})
    put(s3, bucket, FIRST)
    first = run(data, instance)
    assert first.success, step_error(first)
    put(s3, bucket, SECOND)
    second = run(data, instance)
    assert second.success, step_error(second)

    assert [r[0] for r in table_rows(s3, tmp_path)] == [1, 2, 3]
    # The write's port carries the whole table after its commit; the metadata names the new snapshot.
    assert ids(output(second, "write")) == [1, 2, 3]
    table = catalog(s3, tmp_path).load_table(("analytics", "orders"))
    assert metadata(second, "write")["snapshot_id"] == str(table.current_snapshot().snapshot_id)
    assert metadata(second, "write")["rows_written"] == 1 and metadata(second, "write")["table"] == "analytics.orders"

    read = run(data, instance, "read")
    assert read.success, step_error(read)
    rows = output(read, "read")
    assert rows.columns == ["id", "name", "day", "amount"]
    assert rows.column_types == ["bigint", "text", "date", "double precision"]
    assert sorted(rows.rows)[0][:2] == (1, "ada") and str(sorted(rows.rows)[2][2]) == "2024-01-02"
    assert metadata(read, "read")["dagster/row_count"] == 3


def test_overwrite_replaces_the_table_contents(s3, bucket, instance, tmp_path):
    put(s3, bucket, FIRST)
    assert run(lake(s3, bucket, table_config(s3, bucket, tmp_path)), instance).success
    put(s3, bucket, SECOND)
    result = run(lake(s3, bucket, table_config(s3, bucket, tmp_path, mode="overwrite")), instance)
    assert result.success, step_error(result)
    assert [r[0] for r in table_rows(s3, tmp_path)] == [3]
    assert ids(output(result, "write")) == [3]


def test_upsert_updates_matching_keys_and_inserts_new_ones(s3, bucket, instance, tmp_path):
    put(s3, bucket, FIRST)
    assert run(lake(s3, bucket, table_config(s3, bucket, tmp_path)), instance).success
    put(s3, bucket, "id,name,day,amount\n2,bob,2024-01-01,70\n4,dee,2024-01-03,4\n")
    result = run(lake(s3, bucket, table_config(s3, bucket, tmp_path, mode="upsert", key_columns=["id"])), instance)
    assert result.success, step_error(result)
    assert [(r[0], r[3]) for r in table_rows(s3, tmp_path)] == [(1, 12.5), (2, 70.0), (4, 4.0)]
    assert output(result, "write").primary_key == ["id"]
    assert metadata(result, "write")["rows_written"] == 2


def test_upsert_without_key_columns_does_not_load(s3, bucket, tmp_path):
    from constellation_blocks.pipeline import PipelineFileError

    with pytest.raises(PipelineFileError, match=r"blocks\.write\.config\.key_columns must name"):
        pipeline_definitions(Pipeline(lake(s3, bucket, table_config(s3, bucket, tmp_path, mode="upsert"))))


@pytest.mark.parametrize("catalog", [{}, {"catalog_uri": "http://rest:8181", "catalog_uri_secret": "ICEBERG_CATALOG_URL"}])
def test_a_block_names_exactly_one_catalog_or_does_not_load(s3, bucket, tmp_path, catalog):
    from constellation_blocks.pipeline import PipelineFileError

    config = {k: v for k, v in table_config(s3, bucket, tmp_path).items() if k != "catalog_uri"} | catalog
    with pytest.raises(PipelineFileError, match=r"blocks\.read\.config: give exactly one of catalog_uri"):
        pipeline_definitions(Pipeline(lake(s3, bucket, None, read=config)))


def partitioned(s3, bucket, tmp_path) -> dict:
    config = table_config(s3, bucket, tmp_path, partition_column="day")
    data = lake(s3, bucket, config, read={k: v for k, v in config.items() if k != "warehouse"})
    data["partitions"] = {"type": "daily", "start_date": "2024-01-01", "timezone": "UTC"}
    return data


def test_a_partitioned_write_replaces_its_partition_idempotently(s3, bucket, instance, tmp_path):
    data = partitioned(s3, bucket, tmp_path)
    put(s3, bucket, FIRST)
    assert run(data, instance, partition_key="2024-01-01").success
    put(s3, bucket, "id,name,day,amount\n3,cy,2024-01-02,1.25\n5,eve,2024-01-02,5\n")
    assert run(data, instance, partition_key="2024-01-02").success
    before = table_rows(s3, tmp_path)
    again = run(data, instance, partition_key="2024-01-02")
    assert again.success, step_error(again)
    assert table_rows(s3, tmp_path) == before
    assert [r[0] for r in before] == [1, 2, 3, 5]
    # The write's port holds only the run's partition.
    assert ids(output(again, "write")) == [3, 5]

    # A changed partition replaces its rows only; 2024-01-01 keeps its two.
    put(s3, bucket, "id,name,day,amount\n6,fay,2024-01-02,6\n")
    assert run(data, instance, partition_key="2024-01-02").success
    assert [r[0] for r in table_rows(s3, tmp_path)] == [1, 2, 6]

    read = run(data, instance, "read", partition_key="2024-01-01")
    assert read.success, step_error(read)
    assert ids(output(read, "read")) == [1, 2]


def test_concurrent_partition_runs_each_land_their_partition(s3, bucket, instance, tmp_path, monkeypatch):
    """What a backfill's runs starting together meet: the table created, then a commit made, by
    another run between this run's look and its own act. Each race is staged exactly once, with
    a second catalog acting as the other run."""
    other = catalog(s3, tmp_path, warehouse=f"s3://{bucket}/warehouse")
    other_day = pa.table({"id": pa.array([7], pa.int64()), "name": ["gus"], "day": [datetime.date(2024, 1, 2)], "amount": [7.0]})
    create, commit = SqlCatalog.create_table, SqlCatalog.commit_table
    staged = {"create": False, "commit": False}

    def create_after_the_other_run(self, identifier, schema, *args, **kwargs):
        if not staged["create"]:
            staged["create"] = True
            create(other, identifier, schema, *args, **kwargs)  # the other run won the race to create
        return create(self, identifier, schema, *args, **kwargs)

    def commit_after_the_other_run(self, table, requirements, updates):
        if not staged["commit"]:
            staged["commit"] = True
            monkeypatch.setattr(SqlCatalog, "commit_table", commit)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", UserWarning)
                other.load_table(("analytics", "orders")).overwrite(other_day, overwrite_filter="day = '2024-01-02'")
            monkeypatch.setattr(SqlCatalog, "commit_table", commit_after_the_other_run)
        return commit(self, table, requirements, updates)

    monkeypatch.setattr(SqlCatalog, "create_table", create_after_the_other_run)
    monkeypatch.setattr(SqlCatalog, "commit_table", commit_after_the_other_run)
    data = partitioned(s3, bucket, tmp_path)
    put(s3, bucket, FIRST)
    result = run(data, instance, partition_key="2024-01-01")
    assert result.success, step_error(result)
    assert staged == {"create": True, "commit": True}
    # This run's partition and the other run's both hold.
    assert [r[0] for r in table_rows(s3, tmp_path)] == [1, 2, 7]
    assert ids(output(result, "write")) == [1, 2]


def test_a_partitioned_write_refuses_rows_outside_its_partition(s3, bucket, instance, tmp_path):
    data = partitioned(s3, bucket, tmp_path)
    put(s3, bucket, FIRST + "9,zed,2024-01-05,1\n")
    result = run(data, instance, partition_key="2024-01-01")
    assert not result.success
    assert "1 input row(s) have blocks.write.config.partition_column 'day' outside partition 2024-01-01" in step_error(result)


def test_timestamps_are_microseconds_and_zone_aware_ones_timestamptz_partitioned_by_instant(s3, bucket, instance, tmp_path):
    columns = {"id": "integer", "at": "timestamptz", "local": "timestamp"}
    config = table_config(s3, bucket, tmp_path, partition_column="at")
    data = lake(s3, bucket, config, columns=columns)
    data["partitions"] = {"type": "daily", "start_date": "2024-01-01", "timezone": "UTC"}
    put(s3, bucket, "id,at,local\n1,2024-01-02T00:00:00Z,2024-01-02T08:00:00\n2,2024-01-02T23:59:59.5+00:00,2024-01-03T01:00:00\n")
    result = run(data, instance, partition_key="2024-01-02")
    assert result.success, step_error(result)
    table = catalog(s3, tmp_path).load_table(("analytics", "orders"))
    assert [str(f.field_type) for f in table.schema().fields] == ["long", "timestamptz", "timestamp"]
    assert output(result, "write").column_types == ["bigint", "timestamp with time zone", "timestamp without time zone"]
    # 2024-01-03T00:00Z is the next day's partition: [start, end) of the window.
    put(s3, bucket, "id,at,local\n3,2024-01-03T00:00:00Z,2024-01-03T00:00:00\n")
    late = run(data, instance, partition_key="2024-01-02")
    assert not late.success and "outside partition 2024-01-02" in step_error(late)


def test_read_with_a_row_filter_and_at_an_earlier_snapshot(s3, bucket, instance, tmp_path):
    config = table_config(s3, bucket, tmp_path)
    put(s3, bucket, FIRST)
    assert run(lake(s3, bucket, config), instance).success
    first_snapshot = catalog(s3, tmp_path).load_table(("analytics", "orders")).current_snapshot().snapshot_id
    put(s3, bucket, SECOND)
    assert run(lake(s3, bucket, config), instance).success

    filtered = run(lake(s3, bucket, None, read=config | {"row_filter": "amount > 5 AND name != 'bob'"}), instance, "read")
    assert filtered.success, step_error(filtered)
    assert ids(output(filtered, "read")) == [1]

    past = run(lake(s3, bucket, None, read=config | {"snapshot_id": str(first_snapshot)}), instance, "read")
    assert past.success, step_error(past)
    assert ids(output(past, "read")) == [1, 2]
    assert metadata(past, "read")["snapshot_id"] == str(first_snapshot)


@pytest.mark.parametrize("row_filter", ["amount >>> 3", "no_such_column = 1"])
def test_a_bad_row_filter_fails_naming_the_field(s3, bucket, instance, tmp_path, row_filter):
    config = table_config(s3, bucket, tmp_path)
    put(s3, bucket, FIRST)
    assert run(lake(s3, bucket, config), instance).success
    result = run(lake(s3, bucket, None, read=config | {"row_filter": row_filter}), instance, "read")
    assert not result.success
    assert f"blocks.read.config.row_filter {row_filter!r}" in step_error(result)


def test_a_missing_table_without_create_table_if_missing_fails_saying_how_to_fix(s3, bucket, instance, tmp_path):
    put(s3, bucket, FIRST)
    result = run(lake(s3, bucket, table_config(s3, bucket, tmp_path, create_table_if_missing=False)), instance)
    assert not result.success
    error = step_error(result)
    assert "table analytics.orders does not exist in the Iceberg catalog sqlite:///" in error
    assert "set blocks.write.config.create_table_if_missing to true" in error


def test_refused_keys_fail_naming_the_secret_fields(s3, bucket, instance, tmp_path, monkeypatch):
    monkeypatch.setenv("LAKE_KEY_ID", s3.access_key_id)
    monkeypatch.setenv("LAKE_SECRET", "not-the-secret")
    config = table_config(s3, bucket, tmp_path, access_key_id_secret="LAKE_KEY_ID", secret_access_key_secret="LAKE_SECRET")
    put(s3, bucket, FIRST)
    result = run(lake(s3, bucket, config), instance)
    assert not result.success
    error = step_error(result)
    assert "refused the keys" in error and "LAKE_KEY_ID / LAKE_SECRET" in error
    assert "blocks.write.config.secret_access_key_secret" in error and "not-the-secret" not in error


def test_refused_keys_fail_the_read_too(s3, bucket, instance, tmp_path, monkeypatch):
    config = table_config(s3, bucket, tmp_path)
    put(s3, bucket, FIRST)
    assert run(lake(s3, bucket, config), instance).success
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "not-the-secret")
    result = run(lake(s3, bucket, None, read=config), instance, "read")
    assert not result.success
    assert "the S3 store refused the keys; check the environment variables AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY" in step_error(result)


def test_an_unreachable_rest_catalog_fails_naming_catalog_uri(s3, bucket, instance, tmp_path):
    config = table_config(s3, bucket, tmp_path, catalog_uri="http://127.0.0.1:9")
    result = run(lake(s3, bucket, None, read=config), instance, "read")
    assert not result.success
    assert "cannot open the Iceberg catalog http://127.0.0.1:9 (blocks.read.config.catalog_uri)" in step_error(result)


def test_an_unreachable_store_fails_naming_s3_endpoint_url(s3, bucket, instance, tmp_path):
    put(s3, bucket, FIRST)
    result = run(lake(s3, bucket, table_config(s3, bucket, tmp_path, s3_endpoint_url="http://127.0.0.1:9")), instance)
    assert not result.success
    assert "cannot reach the S3 store at http://127.0.0.1:9 (blocks.write.config.s3_endpoint_url)" in step_error(result)


def test_a_column_of_another_type_fails_naming_it(s3, bucket, instance, tmp_path):
    put(s3, bucket, FIRST)
    assert run(lake(s3, bucket, table_config(s3, bucket, tmp_path)), instance).success
    put(s3, bucket, "id,name,day,amount\n3,cy,2024-01-02,lots\n")
    result = run(lake(s3, bucket, table_config(s3, bucket, tmp_path), columns=COLUMNS | {"amount": "string"}), instance)
    assert not result.success
    assert "column 'amount' is string in the input but double in analytics.orders" in step_error(result)
    assert [r[0] for r in table_rows(s3, tmp_path)] == [1, 2]


def test_a_later_input_may_leave_out_a_column_and_bring_its_columns_in_another_order(s3, bucket, instance, tmp_path):
    put(s3, bucket, FIRST)
    assert run(lake(s3, bucket, table_config(s3, bucket, tmp_path)), instance).success
    put(s3, bucket, "amount,id\n3.5,3\n")
    result = run(lake(s3, bucket, table_config(s3, bucket, tmp_path), columns={"amount": "float", "id": "integer"}), instance)
    assert result.success, step_error(result)
    assert table_rows(s3, tmp_path)[2] == (3, None, None, 3.5)


def test_a_postgres_catalog_from_a_secret_url(s3, bucket, instance, tmp_path, pg_url, monkeypatch):
    monkeypatch.setenv("ICEBERG_CATALOG_URL", pg_url)
    config = table_config(s3, bucket, tmp_path, catalog_uri_secret="ICEBERG_CATALOG_URL")
    del config["catalog_uri"]
    put(s3, bucket, FIRST)
    result = run(lake(s3, bucket, config), instance)
    assert result.success, step_error(result)
    assert [r[0] for r in table_rows(s3, tmp_path, uri=pg_url)] == [1, 2]
    read = run(lake(s3, bucket, None, read={k: v for k, v in config.items() if k != "warehouse"}), instance, "read")
    assert read.success, step_error(read)
    assert ids(output(read, "read")) == [1, 2]
