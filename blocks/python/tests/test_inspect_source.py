"""Source inspection against a real PostgreSQL and a real DuckDB file, and as the job the system code location defines."""

import json
import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import dagster as dg
import duckdb
import psycopg

import customers
from constellation_blocks import inspect_source, system_location
from constellation_blocks.inspect_source import inspect
from servers import free_port

PG = "postgres_incremental_extract@1"
CONFIG = {"table": "public.customers", "connection_secret": "SOURCE_URL"}


def with_credentials(url: str, user: str, password: str, port: int | None = None) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(netloc=f"{user}:{password}@{parts.hostname}:{port or parts.port}"))


def test_lists_tables_and_describes_the_configured_table_with_logical_types_and_samples(pg_url):
    customers.seed_ten(pg_url)
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute("CREATE SCHEMA sales; CREATE TABLE sales.orders (id int); CREATE VIEW public.active AS SELECT id FROM public.customers")
    answer = inspect(PG, CONFIG, sample_rows=3, environ={"SOURCE_URL": pg_url})
    assert answer["ok"], answer
    assert answer["tables"] == ["public.active", "public.customers", "sales.orders"] and not answer["tables_truncated"]
    assert answer["table"] == "public.customers"
    assert [(c["name"], c["type"], c["source_type"], c["nullable"]) for c in answer["columns"]] == [
        ("id", "integer", "bigint", False),
        ("name", "string", "text", False),
        ("email", "string", "text", True),
        ("balance", "float", "numeric(12,2)", True),
        ("active", "boolean", "boolean", False),
        ("profile", "json", "jsonb", True),
        ("created_at", "timestamp", "timestamp with time zone", False),
        ("updated_at", "timestamp", "timestamp with time zone", True),
    ]
    assert len(answer["rows"]) == 3
    first = dict(zip([c["name"] for c in answer["columns"]], answer["rows"][0]))
    assert first["id"] in (1, 2, 3) and first["name"] == f"customer {first['id']}" and first["created_at"].startswith("2024-01-01T00:0")
    json.dumps(answer, allow_nan=False)  # JSON-safe as it is


def test_the_session_is_read_only(pg_url):
    customers.create(pg_url)
    # Reading a sequence's nextval writes; a read-only session refuses it, so the sample fails.
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute("CREATE SEQUENCE s; CREATE VIEW public.bumps AS SELECT nextval('s') AS n")
    answer = inspect(PG, {**CONFIG, "table": "public.bumps"}, environ={"SOURCE_URL": pg_url})
    assert not answer["ok"] and "read-only transaction" in answer["error"]
    with psycopg.connect(pg_url) as conn:
        assert conn.execute("SELECT last_value, is_called FROM s").fetchone() == (1, False)


def test_another_table_and_the_limits(pg_url):
    customers.create(pg_url)
    with psycopg.connect(pg_url, autocommit=True) as conn:
        for i in range(5):
            conn.execute(f"CREATE TABLE public.t{i} (note text)")
        conn.execute("INSERT INTO public.t0 SELECT repeat('x', 1000) FROM generate_series(1, 30)")
    answer = inspect(PG, CONFIG, table="public.t0", sample_rows=50, max_tables=3, environ={"SOURCE_URL": pg_url})
    assert answer["tables"] == ["public.customers", "public.t0", "public.t1"] and answer["tables_truncated"]
    assert answer["columns"] == [{"name": "note", "type": "string", "source_type": "text", "nullable": True}]
    assert len(answer["rows"]) == inspect_source.MAX_SAMPLE_ROWS
    assert len(answer["rows"][0][0]) == 200 and answer["rows"][0][0].endswith("…")


def test_a_missing_table_is_named_with_the_tables_there_are(pg_url):
    customers.create(pg_url)
    answer = inspect(PG, {**CONFIG, "table": "public.clients"}, environ={"SOURCE_URL": pg_url})
    assert answer == {
        "ok": False,
        "block_type": PG,
        "error": 'table "public.clients" does not exist in the database in SOURCE_URL (or its user cannot see it); tables: public.customers',
    }


def test_an_unset_secret_is_named_and_nothing_connects():
    answer = inspect(PG, CONFIG, environ={})
    assert not answer["ok"] and "SOURCE_URL" in answer["error"] and "not set where Dagster runs" in answer["error"]


def test_a_refused_login_reports_no_part_of_the_secret(pg_url):
    # The test server trusts every password, so the login is refused for the user instead: the
    # driver's message names the user, which is part of the URL and scrubbed with the rest.
    secret = with_credentials(pg_url, "ghost_user", "Wr0ngPassw0rd")
    answer = inspect(PG, CONFIG, environ={"SOURCE_URL": secret})
    assert not answer["ok"]
    assert answer["error"].startswith("cannot connect to the Postgres database in SOURCE_URL: ")
    for part in (secret, "Wr0ngPassw0rd", "ghost_user"):
        assert part not in answer["error"]


def test_a_refused_connection_reports_no_part_of_the_secret():
    secret = f"postgresql://reader:S3cretPw@127.0.0.1:{free_port()}/db"
    answer = inspect(PG, CONFIG, environ={"SOURCE_URL": secret})
    assert not answer["ok"] and answer["error"].startswith("cannot connect to the Postgres database in SOURCE_URL: ")
    assert "refused" in answer["error"]
    assert "S3cretPw" not in answer["error"] and secret not in answer["error"]


def test_scrub_takes_out_the_url_its_password_and_user_even_url_encoded():
    secret = "postgresql://bob:p%40ss%2Fword@db.internal:5432/app"
    message = "failed for postgresql://bob:p%40ss%2Fword@db.internal:5432/app, user bob, password p@ss/word"
    scrubbed = inspect_source._scrub(message, [secret])
    assert "p@ss/word" not in scrubbed and "p%40ss" not in scrubbed and "bob" not in scrubbed and "db.internal:5432" not in scrubbed


def test_other_block_types_are_not_supported_yet():
    assert inspect("iceberg_table_read@1", {"table": "x.y"}) == {
        "ok": False,
        "error": "inspection is not supported for iceberg_table_read@1 yet (it is for duckdb_table_read@1, postgres_incremental_extract@1)",
    }


def test_duckdb_file(tmp_path):
    path = str(tmp_path / "warehouse.duckdb")
    with duckdb.connect(path) as con:
        con.execute("CREATE SCHEMA analytics; CREATE TABLE analytics.orders (order_id INTEGER NOT NULL, amount DECIMAL(10,2), ordered_at TIMESTAMP, note VARCHAR)")
        con.execute("INSERT INTO analytics.orders VALUES (1, 9.5, TIMESTAMP '2024-01-02 03:04:05', 'a'), (2, NULL, NULL, NULL)")
    answer = inspect("duckdb_table_read@1", {"database_path": path, "table": "analytics.orders"}, sample_rows=5)
    assert answer["ok"], answer
    assert answer["tables"] == ["analytics.orders"]
    assert [(c["name"], c["type"], c["nullable"]) for c in answer["columns"]] == [
        ("order_id", "integer", False), ("amount", "float", True), ("ordered_at", "timestamp", True), ("note", "string", True),
    ]
    assert answer["rows"] == [[1, "9.50", "2024-01-02T03:04:05", "a"], [2, None, None, None]]
    missing = inspect("duckdb_table_read@1", {"database_path": path, "table": "orders"})
    assert missing["error"] == f"table \"orders\" does not exist in '{path}'; tables: analytics.orders"


def test_dagster_loads_the_system_location_as_workspace_yaml_names_it(tmp_path):
    # What workspace.yaml's entry asks of Dagster: the module, loaded by the environment's Python.
    env = {**os.environ, "DAGSTER_HOME": str(tmp_path)}
    result = subprocess.run(
        [str(Path(sys.executable).parent / "dagster"), "definitions", "validate", "-m", "constellation_blocks.system_location"],
        capture_output=True, text=True, env=env, cwd=tmp_path, timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert system_location.LOCATION_NAME == "constellation_system"
    # The inspection job alone: no asset, schedule or sensor of anyone's.
    defs = system_location.defs
    assert [job.name for job in defs.resolve_all_job_defs()] == [inspect_source.JOB_NAME]
    assert not list(defs.resolve_all_asset_specs()) and not defs.schedules and not defs.sensors


def test_the_system_location_runs_the_job_and_it_answers_in_its_output_metadata(pg_url, instance, monkeypatch):
    monkeypatch.setenv("SOURCE_URL", pg_url)
    customers.seed_ten(pg_url)
    job = system_location.defs.resolve_job_def(inspect_source.JOB_NAME)
    result = job.execute_in_process(
        instance=instance,
        run_config={"ops": {inspect_source.OP_NAME: {"config": {"block_type": PG, "config": CONFIG, "sample_rows": 2}}}},
    )
    assert result.success
    [output] = [e for e in result.all_events if e.is_successful_output]
    answer = output.event_specific_data.metadata[inspect_source.RESULT_LABEL].value
    assert answer["ok"] and answer["table"] == "public.customers" and len(answer["rows"]) == 2
    # The secret's value is nowhere in what the run kept.
    logs = [dg.serialize_value(entry) for entry in instance.all_logs(result.run_id)]
    assert any("public.customers" in entry for entry in logs)
    assert not any(pg_url in entry for entry in logs)
