"""dlt_ingestion@1 with the rest_api source: a paged JSON API (a local stand-in server) into DuckDB."""

import duckdb
import dagster as dg
import pytest

from constellation_blocks.component import build_blocks, pipeline_definitions
from constellation_blocks.pipeline import Pipeline, PipelineFileError
from dlt_pipelines import dlt_pipeline, rest_api_config
from stand_ins import PagedJsonServer

ISSUES = [{"id": i, "title": f"issue {i}", "labels": [{"name": "bug"}, {"name": f"p{i % 2}"}]} for i in range(1, 6)]
USERS = [{"id": 1, "login": "ada"}, {"id": 2, "login": "grace"}]


@pytest.fixture
def api():
    server = PagedJsonServer({"issues": [dict(row) for row in ISSUES], "users": list(USERS)}, page_size=2)
    yield server
    server.stop()


def definitions(data: dict) -> dg.Definitions:
    return pipeline_definitions(Pipeline(data))


def query(path, sql: str) -> list[tuple]:
    with duckdb.connect(str(path), read_only=True) as con:
        return con.execute(sql).fetchall()


def test_each_loaded_table_is_an_asset_keyed_by_block_and_table(tmp_path, api):
    data = dlt_pipeline("tracker", rest_api_config(api.url, duckdb_path=str(tmp_path / "w.duckdb")))
    pipeline = Pipeline(data)
    built = build_blocks(pipeline, {})["ingest"]
    keys = [dg.AssetKey(["local", "tracker", "ingest", table]) for table in ("issues", "users")]
    # Downstream blocks (dbt) depend on these keys.
    assert list(built.keys) == keys
    [assets] = built.assets
    assert set(assets.keys) == set(keys) and assets.can_subset
    spec = assets.specs_by_key[keys[0]]
    assert spec.group_name == "tracker" and spec.kinds == {"dlt", "duckdb"}
    assert spec.metadata["constellation/block_type"] == "dlt_ingestion@1"
    # Its own, slug-qualified resource: no other pipeline of a shard binds this key.
    assert set(assets.resource_defs) == {"tracker__ingest_dlt"}
    # Loading the definitions asked nothing of the API.
    assert api.requests == []


def test_merge_loads_every_page_and_keeps_rows_unique_over_two_runs(tmp_path, api, instance):
    path = tmp_path / "w.duckdb"
    config = rest_api_config(api.url, duckdb_path=str(path), write_disposition="merge", primary_key=["id"])
    job = definitions(dlt_pipeline("tracker", config)).resolve_job_def("tracker__all_blocks")

    first = job.execute_in_process(instance=instance)
    assert first.success
    materialized = {event.asset_key.path[-1] for event in first.get_asset_materialization_events()}
    assert materialized == {"issues", "users"}
    # Five issues at two a page: three pages, followed by the "next" links.
    assert [p for p, _ in api.requests if p.startswith("/issues")] == ["/issues", "/issues?page=2", "/issues?page=3"]

    api.resources["issues"][0]["title"] = "issue 1, renamed"
    api.resources["issues"].append({"id": 6, "title": "issue 6", "labels": []})
    assert job.execute_in_process(instance=instance).success

    assert query(path, "SELECT count(*), count(DISTINCT id) FROM tracker_raw.issues") == [(6, 6)]
    assert query(path, "SELECT title FROM tracker_raw.issues WHERE id = 1") == [("issue 1, renamed",)]
    assert query(path, "SELECT count(*) FROM tracker_raw.users") == [(2,)]
    # Nested lists land in dlt's child table; the parent asset carries its schema.
    assert query(path, "SELECT count(*) FROM tracker_raw.issues__labels")[0][0] > 0
    latest = instance.get_latest_materialization_event(dg.AssetKey(["local", "tracker", "ingest", "issues"]))
    assert latest.asset_materialization.metadata["rows_loaded"].value == 6


def test_append_adds_rows_again_on_every_run(tmp_path, api, instance):
    path = tmp_path / "w.duckdb"
    job = definitions(dlt_pipeline("tracker", rest_api_config(api.url, duckdb_path=str(path)))).resolve_job_def("tracker__all_blocks")
    assert job.execute_in_process(instance=instance).success
    assert job.execute_in_process(instance=instance).success
    assert query(path, "SELECT count(*), count(DISTINCT id) FROM tracker_raw.issues") == [(10, 5)]


def test_a_subset_run_loads_only_the_selected_table(tmp_path, api, instance):
    path = tmp_path / "w.duckdb"
    defs = definitions(dlt_pipeline("tracker", rest_api_config(api.url, duckdb_path=str(path))))
    users = dg.AssetKey(["local", "tracker", "ingest", "users"])
    result = defs.resolve_job_def("tracker__all_blocks").execute_in_process(instance=instance, asset_selection=[users])
    assert result.success
    assert [event.asset_key for event in result.get_asset_materialization_events()] == [users]
    assert {p for p, _ in api.requests} == {"/users"}


def test_the_token_comes_from_the_secret_at_run_time_not_at_load(tmp_path, api, instance, monkeypatch):
    config = rest_api_config(api.url, duckdb_path=str(tmp_path / "w.duckdb"), source_credentials_secret="TRACKER_TOKEN")
    config["source_config"]["client"]["auth"] = {"type": "bearer"}
    monkeypatch.delenv("TRACKER_TOKEN", raising=False)
    defs = definitions(dlt_pipeline("tracker", config))  # loads without the secret

    monkeypatch.setenv("TRACKER_TOKEN", "s3cret")
    assert defs.resolve_job_def("tracker__all_blocks").execute_in_process(instance=instance).success
    assert api.requests and {auth for _, auth in api.requests} == {"Bearer s3cret"}


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda c: c.update(source="filesystem"), r'config.source is "filesystem", which this version .* does not run yet'),
        (lambda c: c.pop("duckdb_path"), r"config.duckdb_path must name the DuckDB file"),
        (lambda c: c["source_config"].pop("resources"), r"config.source_config.resources must list at least one resource"),
        (lambda c: c.update(source="sql_database", source_config={"schema": "public"}), r"config.source_config.table_names must list"),
        (lambda c: c.update(source="sql_database", source_config={"table_names": ["t"], "query_adapter_callback": "x"}),
         r"config.source_config has query_adapter_callback; sql_database takes"),
        (lambda c: c.update(destination="filesystem"), r"config.destination must be one of duckdb, postgres"),
    ],
)
def test_a_config_the_block_cannot_run_fails_the_load_naming_the_key(tmp_path, change, message):
    config = rest_api_config("http://127.0.0.1:9/", duckdb_path=str(tmp_path / "w.duckdb"))
    change(config)
    with pytest.raises(PipelineFileError, match=message):
        definitions(dlt_pipeline("tracker", config))
