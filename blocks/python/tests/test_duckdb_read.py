"""duckdb_table_read@1: a table or view of a DuckDB file read into a table port, whole or by partition.

The step is called directly where only its reading matters; partitioned reads and the wiring of
``after`` run through pipelines built as the compiler builds them, materialized in process.
"""

from datetime import date, datetime, timezone
from decimal import Decimal

import dagster as dg
import duckdb
import pytest

from constellation_blocks import block_types
from constellation_blocks.component import pipeline_definitions
from constellation_blocks.duckdb_read import read_table
from constellation_blocks.duckdb_steps import DUCKDB_TAG
from constellation_blocks.pipeline import Block, Pipeline, PipelineFileError
from dbt_pipelines import dbt_manifest, dbt_pipeline, dbt_project, write_pipeline  # noqa: F401 (fixtures)
from pipelines import add_block, node, pipeline, run, step_error

ORDERS = [
    # id, customer, amount, paid, ordered_at (timestamp), ordered_on (date), seen_at (timestamptz)
    (1, "ada", "1.50", True, "2024-01-01 23:59:59", "2024-01-01", "2024-01-01 23:59:59+00"),
    (2, "grace", "2.00", False, "2024-01-02 00:00:00", "2024-01-02", "2024-01-02 00:00:00+00"),
    (3, None, "3.25", True, "2024-01-02 23:59:59.999", "2024-01-02", "2024-01-02 23:59:59+00"),
    (4, "linus", "0.10", False, "2024-01-03 00:00:00", "2024-01-03", "2024-01-03 00:00:00+00"),
]


@pytest.fixture
def warehouse(tmp_path):
    """A DuckDB file with sales.orders (one column of each common type) and a view on it."""
    path = tmp_path / "warehouse.duckdb"
    with duckdb.connect(str(path)) as con:
        con.execute("CREATE SCHEMA sales")
        con.execute(
            "CREATE TABLE sales.orders (id INTEGER, customer VARCHAR, amount DECIMAL(12,2), paid BOOLEAN, "
            "ordered_at TIMESTAMP, ordered_on DATE, seen_at TIMESTAMPTZ, score DOUBLE)"
        )
        con.executemany("INSERT INTO sales.orders VALUES (?, ?, ?, ?, ?, ?, ?, 0.5)", [list(row) for row in ORDERS])
        con.execute("CREATE VIEW sales.paid_orders AS SELECT id, amount FROM sales.orders WHERE paid")
    return path


def block(path, **config) -> Block:
    config = {"database_path": str(path), "table": "sales.orders", **config}
    return Block("read", "duckdb_table_read@1", "Read orders", None, block_types.with_defaults("duckdb_table_read@1", config), [])


def read(path, **config):
    return read_table(dg.build_asset_context(), block(path, **config))


def test_reads_every_row_and_column_with_postgres_type_names(warehouse):
    result = read(warehouse)
    rows = result.value
    assert rows.table == "orders" and rows.source == "read"
    assert rows.columns == ["id", "customer", "amount", "paid", "ordered_at", "ordered_on", "seen_at", "score"]
    assert rows.column_types == [
        "integer", "text", "numeric(12,2)", "boolean", "timestamp without time zone", "date", "timestamp with time zone", "double precision",
    ]
    assert [row[:4] for row in rows.rows] == [(i, c, Decimal(a), p) for i, c, a, p, *_ in ORDERS]
    assert rows.rows[0][4:6] == (datetime(2024, 1, 1, 23, 59, 59), date(2024, 1, 1))
    assert rows.rows[1][6] == datetime(2024, 1, 2, tzinfo=timezone.utc)
    assert result.metadata["dagster/row_count"].value == 4 and result.metadata["table"].value == "sales.orders"


def test_reads_the_columns_named_in_their_order_and_views_and_any_case(warehouse):
    rows = read(warehouse, columns=["amount", "ID"]).value
    assert rows.columns == ["amount", "id"] and rows.column_types == ["numeric(12,2)", "integer"]
    assert rows.rows == [(Decimal("1.50"), 1), (Decimal("2.00"), 2), (Decimal("3.25"), 3), (Decimal("0.10"), 4)]
    assert read(warehouse, table="Sales.Paid_Orders").value.rows == [(1, Decimal("1.50")), (3, Decimal("3.25"))]


def test_without_a_partition_a_partition_column_reads_every_row(warehouse):
    assert len(read(warehouse, partition_column="ordered_at").value.rows) == 4


def test_a_file_named_like_its_schema_reads_the_table(tmp_path):
    # dbt-duckdb builds schema "silver" in silver.duckdb: "silver.purchases" then names the schema, not the file.
    path = tmp_path / "silver.duckdb"
    with duckdb.connect(str(path)) as con:
        con.execute("CREATE SCHEMA silver")
        con.execute("CREATE TABLE silver.silver.purchases AS SELECT 1 AS event_id")
    assert read(path, table="silver.purchases").value.rows == [(1,)]


def test_opens_the_file_read_only(warehouse):
    # DuckDB refuses, in one process, a second connection to a file with another configuration:
    # a read-write connection beside this read-only one would fail.
    with duckdb.connect(str(warehouse), read_only=True):
        assert len(read(warehouse).value.rows) == 4


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({"database_path": "/nowhere/w.duckdb"}, r"blocks.read.config.database_path '/nowhere/w.duckdb' is not a file here"),
        ({"table": "sales.missing"}, r"blocks.read.config.table 'sales.missing': .* no such table or view \(its tables: sales.orders, sales.paid_orders\)"),
        ({"table": "orders"}, r"blocks.read.config.table 'orders': .*schema-qualified unless in main"),
        ({"columns": ["id", "total"]}, r"blocks.read.config.columns 'sales.orders' has no column\(s\) total; it has: id, customer, amount"),
        ({"partition_column": "when"}, r"blocks.read.config.partition_column 'sales.orders' has no column when"),
    ],
)
def test_what_the_file_lacks_fails_naming_the_config_field(warehouse, config, message):
    with pytest.raises(dg.Failure, match=message):
        read(warehouse, **config)


def test_a_file_that_is_not_duckdb_fails_naming_database_path(tmp_path):
    path = tmp_path / "notes.db"
    path.write_text("not a database")
    with pytest.raises(dg.Failure, match=r"blocks.read.config.database_path .* cannot be opened read-only"):
        read(path)


def partitioned(warehouse, partitions: dict, **config) -> dict:
    data = pipeline("reads", {"read": ("duckdb_table_read@1", {"database_path": str(warehouse), "table": "sales.orders", **config})})
    data["partitions"] = partitions
    return data


DAILY = {"type": "daily", "start_date": "2024-01-01"}


@pytest.mark.parametrize("column", ["ordered_at", "ordered_on", "seen_at"])
def test_a_daily_partition_reads_the_rows_of_its_day(warehouse, instance, column):
    result = run(partitioned(warehouse, DAILY, partition_column=column, columns=["id"]), instance, partition_key="2024-01-02")
    assert result.success
    assert result.output_for_node(node("read", "reads")).rows == [(2,), (3,)]


@pytest.mark.parametrize(("column", "ids"), [("ordered_at", [(2,), (3,)]), ("seen_at", [(1,), (2,)])])
def test_a_partition_in_another_time_zone_reads_wall_clock_timestamps_as_its_own_and_instants_as_instants(warehouse, instance, column, ids):
    # Berlin's 2024-01-02 is 2024-01-01T23:00Z to 2024-01-02T23:00Z.
    berlin = {**DAILY, "timezone": "Europe/Berlin"}
    result = run(partitioned(warehouse, berlin, partition_column=column, columns=["id"]), instance, partition_key="2024-01-02")
    assert result.output_for_node(node("read", "reads")).rows == ids


def test_a_partition_column_that_is_no_date_fails_naming_it(warehouse, instance):
    result = run(partitioned(warehouse, DAILY, partition_column="customer"), instance, partition_key="2024-01-02")
    assert not result.success
    assert "blocks.read.config.partition_column customer is of type VARCHAR; name a DATE or TIMESTAMP column" in step_error(result)


def test_a_static_partition_has_no_window_to_read(warehouse, instance):
    result = run(partitioned(warehouse, {"type": "static", "values": ["eu"]}, partition_column="ordered_at"), instance, partition_key="eu")
    assert not result.success
    assert "partition_column this run's partition 'eu' is no time window" in step_error(result)


def test_the_asset_runs_one_at_a_time_with_other_duckdb_steps_and_checks_names_at_load(warehouse):
    defs = pipeline_definitions(Pipeline(partitioned(warehouse, None)))
    [asset] = defs.assets
    assert DUCKDB_TAG in asset.op.tags and defs.resolve_asset_graph().get(asset.key).kinds == {"duckdb"}
    bad = pipeline("reads", {"read": ("duckdb_table_read@1", {"database_path": str(warehouse), "table": 'orders"; DROP TABLE x'})})
    with pytest.raises(PipelineFileError, match=r"blocks.read.config: table must be a plain identifier"):
        pipeline_definitions(Pipeline(bad))


def tracker_key(*parts: str) -> dg.AssetKey:
    return dg.AssetKey(["local", "tracker", *parts])


def tracker_with_read(tmp_path, dbt_project, manifest, table: str) -> dg.Definitions:
    """transform (dbt_run, the fixture project) → read (``table`` of its DuckDB file) → load (into mart.duckdb)."""
    data = dbt_pipeline("tracker", dbt_project, ingest=None)
    add_block(data, "read", "duckdb_table_read@1", {"database_path": str(tmp_path / "tracker.duckdb"), "table": table}, {"after": ["transform"]})
    load = {"database_path": str(tmp_path / "mart.duckdb"), "table": "main.open_issues", "mode": "replace"}
    add_block(data, "load", "duckdb_load@1", load, {"rows": ["read"]})
    return pipeline_definitions(Pipeline.load(write_pipeline(tmp_path / "component", data, manifest)))


def test_a_read_waits_for_the_dbt_model_it_names_or_for_every_model(tmp_path, dbt_project, dbt_manifest):
    graph = tracker_with_read(tmp_path, dbt_project, dbt_manifest(), "analytics.issues_per_user").resolve_asset_graph()
    assert graph.get(tracker_key("read")).parent_keys == {tracker_key("transform", "issues_per_user")}
    graph = tracker_with_read(tmp_path, dbt_project, dbt_manifest(), "analytics.made_elsewhere").resolve_asset_graph()
    models = {tracker_key("transform", name) for name in ("issues_per_user", "stg_issues", "stg_users")}
    assert graph.get(tracker_key("read")).parent_keys == models


def test_a_dbt_model_read_after_its_run_and_loaded_into_another_file(tmp_path, dbt_project, dbt_manifest, instance, monkeypatch):
    warehouse = tmp_path / "tracker.duckdb"
    monkeypatch.setenv("TRACKER_DUCKDB_PATH", str(warehouse))  # where the fixture project's profile builds its models
    with duckdb.connect(str(warehouse)) as con:
        con.execute("CREATE SCHEMA tracker_raw")
        con.execute("CREATE TABLE tracker_raw.issues AS FROM (VALUES (1, 'crash', 'open', 1), (2, 'typo', 'closed', 2), (3, 'slow', 'open', 1)) t(id, title, state, user_id)")
        con.execute("CREATE TABLE tracker_raw.users AS FROM (VALUES (1, 'ada'), (2, 'grace')) t(id, login)")
    defs = tracker_with_read(tmp_path, dbt_project, dbt_manifest(), "analytics.issues_per_user")
    result = defs.resolve_job_def("tracker__all_blocks").execute_in_process(instance=instance)

    assert result.success
    materialized = [event.asset_key for event in result.get_asset_materialization_events()]
    assert materialized.index(tracker_key("read")) > materialized.index(tracker_key("transform", "issues_per_user"))
    with duckdb.connect(str(tmp_path / "mart.duckdb"), read_only=True) as con:
        assert con.execute("SELECT login, open_issues FROM main.open_issues ORDER BY login").fetchall() == [("ada", 2), ("grace", 0)]
        assert con.execute("SELECT data_type FROM information_schema.columns WHERE column_name = 'open_issues'").fetchall() == [("BIGINT",)]
