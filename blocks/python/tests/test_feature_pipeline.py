"""A compiled format-2 pipeline: CSV files in S3 (moto) → files_to_table → duckdb_sql_transform → feature_engineering → duckdb_load.

Materialized in process with Dagster, unpartitioned and for one daily partition; the features are
read back from the DuckDB file the load wrote, and compared with values worked out by hand.
"""

import dagster as dg
import duckdb

from constellation_blocks.component import pipeline_definitions
from constellation_blocks.pipeline import Pipeline
from pipelines import pipeline

ORDERS_CSV = """id,customer_id,total,ordered_at
1,1,10,2024-01-01T10:00:00Z
2,1,20,2024-01-05T00:00:00Z
3,1,30,2024-01-09T12:00:00Z
4,2,5,2024-01-08T00:00:00Z
5,3,7,2024-01-10T00:00:00Z
"""
CUSTOMERS_CSV = "customer_id,region\n1,eu\n2,eu\n3,us\n"
FEATURES = [
    {"name": "orders_7d", "aggregation": "count", "window": "7d"},
    {"name": "revenue", "aggregation": "sum", "column": "total"},
    {"name": "last_total", "aggregation": "last", "column": "total"},
]


def features_pipeline(s3, bucket: str, warehouse) -> dict:
    store = {"bucket": bucket, "endpoint_url": s3.url, "region": "us-east-1", "prefix": "in/"}
    sql = "SELECT o.customer_id, o.total, o.ordered_at FROM orders o JOIN customers c USING (customer_id) WHERE c.region = 'eu'"
    return pipeline("features", {
        "orders_files": ("s3_files@1", {**store, "pattern": "orders*.csv"}),
        "customers_files": ("s3_files@1", {**store, "pattern": "customers*.csv"}),
        "orders": ("files_to_table@1", {}, {"files": ["orders_files"]}),
        "customers": ("files_to_table@1", {}, {"files": ["customers_files"]}),
        "eu_orders": ("duckdb_sql_transform@1", {"sql": sql, "output_table": "eu_orders"}, {"tables": ["orders", "customers"]}),
        "customer_features": (
            "feature_engineering@1",
            {"entity_key": ["customer_id"], "timestamp_column": "ordered_at", "features": FEATURES, "output_table": "customer_features"},
            {"rows": ["eu_orders"]},
        ),
        "load": ("duckdb_load@1", {"database_path": str(warehouse), "table": "main.customer_features", "mode": "replace"}, {"rows": ["customer_features"]}),
    })


def materialize(data: dict, instance, partition_key: str | None = None) -> dg.ExecuteInProcessResult:
    job = pipeline_definitions(Pipeline(data)).resolve_job_def("features__all_blocks")
    result = job.execute_in_process(instance=instance, raise_on_error=False, partition_key=partition_key)
    failures = [e.step_failure_data.error.to_string() for e in result.all_events if e.is_step_failure]
    assert result.success, failures
    return result


def loaded(warehouse) -> list[tuple]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.execute("SELECT customer_id, orders_7d, revenue, last_total FROM main.customer_features ORDER BY customer_id").fetchall()


def put_files(s3, bucket: str) -> None:
    s3.client().put_object(Bucket=bucket, Key="in/orders.csv", Body=ORDERS_CSV.encode())
    s3.client().put_object(Bucket=bucket, Key="in/customers.csv", Body=CUSTOMERS_CSV.encode())


def test_features_of_joined_files_as_of_the_latest_order(s3, bucket, instance, tmp_path):
    put_files(s3, bucket)
    result = materialize(features_pipeline(s3, bucket, tmp_path / "w.duckdb"), instance)
    # EU orders only; as_of is the latest of them (the 9th, 12:00), its 7d window (2nd 12:00, 9th 12:00].
    assert loaded(tmp_path / "w.duckdb") == [(1, 2, 60, 30), (2, 1, 5, 5)]
    features = result.output_for_node("local__features__customer_features")
    assert (features.table, features.primary_key) == ("customer_features", ["customer_id"])
    [materialization] = [m for m in result.asset_materializations_for_node("local__features__customer_features")]
    assert materialization.metadata["as_of"].value == "2024-01-09T12:00:00+00:00"


def test_a_daily_partition_computes_features_as_of_its_end(s3, bucket, instance, tmp_path):
    put_files(s3, bucket)
    data = features_pipeline(s3, bucket, tmp_path / "w.duckdb")
    data["partitions"] = {"type": "daily", "start_date": "2024-01-01", "timezone": "UTC"}
    materialize(data, instance, partition_key="2024-01-08")
    # as_of 2024-01-09T00:00: the order of the 9th is in the partition's future; 7d window [2nd, 9th).
    assert loaded(tmp_path / "w.duckdb") == [(1, 1, 30, 20), (2, 1, 5, 5)]
