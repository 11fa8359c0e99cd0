"""dlt_ingestion@1 with the sql_database source: a real Postgres table into Postgres (another schema) and into DuckDB."""

from datetime import timedelta

import dagster as dg
import duckdb
import psycopg
import pytest

import customers
from constellation_blocks.component import pipeline_definitions
from constellation_blocks.pipeline import Pipeline
from customers import T0
from dlt_pipelines import dlt_pipeline


def sql_config(**overrides) -> dict:
    config = {
        "pipeline_name": "crm",
        "source": "sql_database",
        "source_config": {"schema": "public", "table_names": ["customers"]},
        "source_credentials_secret": "CRM_SOURCE_URL",
        "dataset_name": "crm_raw",
    }
    config.update(overrides)
    return config


def job(config: dict, slug: str = "crm"):
    return pipeline_definitions(Pipeline(dlt_pipeline(slug, config))).resolve_job_def(f"{slug}__all_blocks")


def pg_rows(url: str, sql: str) -> list[tuple]:
    with psycopg.connect(url) as conn:
        return conn.execute(sql).fetchall()


@pytest.fixture
def source(pg_url, monkeypatch):
    customers.seed_ten(pg_url)
    monkeypatch.setenv("CRM_SOURCE_URL", pg_url)
    return pg_url


def test_postgres_table_into_another_postgres_schema_merges_on_the_table_s_key(source, instance, monkeypatch):
    # dlt's postgres destination wants a password in the URL; the test server trusts any.
    monkeypatch.setenv("CRM_DESTINATION_URL", source.replace("postgres@", "postgres:unused@"))
    crm = job(sql_config(destination="postgres", destination_credentials_secret="CRM_DESTINATION_URL", write_disposition="merge"))

    first = crm.execute_in_process(instance=instance)
    assert first.success
    assert [e.asset_key for e in first.get_asset_materialization_events()] == [dg.AssetKey(["local", "crm", "ingest", "customers"])]
    customers.update(source, [2], T0 + timedelta(hours=1), name="renamed")
    customers.insert(source, [{"id": 11, "created_at": T0 + timedelta(minutes=40)}])
    assert crm.execute_in_process(instance=instance).success

    # The primary key was read from the source table: merged, not appended.
    assert pg_rows(source, "SELECT count(*), count(DISTINCT id) FROM crm_raw.customers") == [(11, 11)]
    assert pg_rows(source, "SELECT name FROM crm_raw.customers WHERE id = 2") == [("renamed",)]
    # jsonb and numeric columns arrive typed.
    assert pg_rows(source, "SELECT balance IS NOT NULL FROM crm_raw.customers WHERE id = 3") == [(True,)]


def test_postgres_table_into_duckdb_with_an_incremental_cursor_reads_only_new_rows(source, instance, tmp_path):
    path = tmp_path / "crm.duckdb"
    crm = job(sql_config(duckdb_path=str(path), incremental_cursor="created_at"))  # append: a re-read row would show twice

    assert crm.execute_in_process(instance=instance).success
    customers.insert(source, [{"id": 11, "created_at": T0 + timedelta(minutes=40)}])
    second = crm.execute_in_process(instance=instance)
    assert second.success

    with duckdb.connect(str(path), read_only=True) as con:
        # dlt keeps the cursor in the destination; the row at the cursor (id 10) is deduplicated by dlt.
        assert con.execute("SELECT count(*), count(DISTINCT id) FROM crm_raw.customers").fetchone() == (11, 11)
    latest = instance.get_latest_materialization_event(dg.AssetKey(["local", "crm", "ingest", "customers"]))
    assert latest.run_id == second.run_id and latest.asset_materialization.metadata["rows_loaded"].value == 1


def test_a_missing_database_secret_fails_the_run_not_the_load(pg_url, instance, tmp_path, monkeypatch):
    monkeypatch.delenv("CRM_SOURCE_URL", raising=False)
    crm = job(sql_config(duckdb_path=str(tmp_path / "crm.duckdb")))  # loads without it
    with pytest.raises(dg.DagsterInvalidConfigError, match='environment variable "CRM_SOURCE_URL" which is not set'):
        crm.execute_in_process(instance=instance)
