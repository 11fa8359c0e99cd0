"""dbt_run@1 and dbt_test@1: a tracker API (stand-in server) → dlt → DuckDB → the fixture dbt project → its tests as checks.

Real dbt-core with dbt-duckdb, real Dagster; the manifest is parsed once per session (dbt_pipelines).
"""

import json

import dagster as dg
import duckdb
import pytest

from constellation_blocks import check_shard
from constellation_blocks.component import pipeline_definitions
from constellation_blocks.pipeline import Pipeline, PipelineFileError
from dbt_pipelines import dbt_manifest, dbt_pipeline, dbt_project, tracker_ingest, write_pipeline  # noqa: F401 (fixtures)
from stand_ins import PagedJsonServer
from shards import write_shard

ISSUES = [
    {"id": 1, "title": "crash on start", "state": "open", "user_id": 1},
    {"id": 2, "title": "typo", "state": "closed", "user_id": 2},
    {"id": 3, "title": "slow page", "state": "open", "user_id": 1},
]
USERS = [{"id": 1, "login": "ada"}, {"id": 2, "login": "grace"}]


def key(*parts: str) -> dg.AssetKey:
    return dg.AssetKey(["local", "tracker", *parts])


@pytest.fixture
def api():
    server = PagedJsonServer({"issues": [dict(row) for row in ISSUES], "users": [dict(row) for row in USERS]})
    yield server
    server.stop()


@pytest.fixture
def warehouse(tmp_path, monkeypatch):
    """The DuckDB file dlt loads and dbt transforms (profiles.yml reads its path from TRACKER_DUCKDB_PATH)."""
    path = tmp_path / "tracker.duckdb"
    monkeypatch.setenv("TRACKER_DUCKDB_PATH", str(path))
    return path


def load(tmp_path, data: dict, manifest) -> dg.Definitions:
    """The pipeline's definitions as its component builds them from the folder a deploy writes."""
    return pipeline_definitions(Pipeline.load(write_pipeline(tmp_path / "component", data, manifest)))


def query(path, sql: str) -> list[tuple]:
    with duckdb.connect(str(path), read_only=True) as con:
        return con.execute(sql).fetchall()


def test_models_are_assets_of_the_block_with_lineage_from_the_ingestion(tmp_path, dbt_project, dbt_manifest):
    data = dbt_pipeline("tracker", dbt_project, ingest=tracker_ingest("http://127.0.0.1:9/", duckdb_path="/tmp/x.duckdb"), test={})
    defs = load(tmp_path, data, dbt_manifest())
    graph = defs.resolve_asset_graph()
    models = [key("transform", name) for name in ("issues_per_user", "stg_issues", "stg_users")]
    assert set(models) <= set(graph.get_all_asset_keys())
    stg_issues = graph.get(key("transform", "stg_issues"))
    # The dbt source tracker_raw.issues is the dlt block's table: lineage runs ingest → dbt.
    assert stg_issues.parent_keys == {key("ingest", "issues")}
    assert graph.get(key("transform", "issues_per_user")).parent_keys == {key("transform", "stg_issues"), key("transform", "stg_users")}
    assert stg_issues.group_name == "tracker" and stg_issues.kinds == {"dbt", "duckdb"}
    assert stg_issues.metadata["constellation/block_type"] == "dbt_run@1"

    # The tests are the dbt_test block's checks, non-blocking; the dbt_run assets carry none.
    checks = {check: graph.get_check_spec(check) for check in graph.asset_check_keys}
    assert dg.AssetCheckKey(key("transform", "stg_issues"), "accepted_values_stg_issues_state__open__closed") in checks
    assert {check.asset_key for check in checks} == set(models)
    assert not any(spec.blocking for spec in checks.values())
    [dbt_run] = [a for a in defs.assets if isinstance(a, dg.AssetsDefinition) and key("transform", "stg_issues") in a.keys]
    assert not dbt_run.check_keys


def test_a_source_is_the_table_a_sink_block_stored_under_its_config_name(tmp_path, dbt_project, dbt_manifest):
    # Lake-style: a sink stores one table (here duckdb_load; iceberg_table_write alike) and feeds the
    # dbt block's sources; the dbt source tracker_raw.issues is the table "tracker_raw.issues" it stored.
    data = dbt_pipeline("tracker", dbt_project, ingest=None)
    rows = {"type": "postgres_incremental_extract@1", "name": "Issues", "description": None, "config": {"table": "public.issues"},
            "retry_policy": None, "downstream": ["store_issues"], "inputs": [], "resource_key": "local__tracker__issues"}
    store = {"type": "duckdb_load@1", "name": "Store issues", "description": None, "retry_policy": None, "downstream": ["transform"],
             "config": {"database_path": "/tmp/x.duckdb", "table": "tracker_raw.issues"}, "resource_key": None,
             "inputs": [{"port": "rows", "upstream": ["issues"], "multiple": False}]}
    data["blocks"] = {"issues": rows, "store_issues": store, **data["blocks"]}
    data["blocks"]["transform"]["inputs"] = [{"port": "sources", "upstream": ["store_issues"], "multiple": True}]
    data["jobs"]["all_blocks"]["blocks"] = list(data["blocks"])
    graph = load(tmp_path, data, dbt_manifest()).resolve_asset_graph()
    assert graph.get(key("transform", "stg_issues")).parent_keys == {key("store_issues")}
    # The source it does not store stays external.
    assert graph.get(key("transform", "stg_users")).parent_keys == {dg.AssetKey(["tracker_raw", "users"])}


def test_a_source_no_upstream_block_loads_stays_an_external_asset(tmp_path, dbt_project, dbt_manifest):
    defs = load(tmp_path, dbt_pipeline("tracker", dbt_project, ingest=None), dbt_manifest())
    graph = defs.resolve_asset_graph()
    assert graph.get(key("transform", "stg_users")).parent_keys == {dg.AssetKey(["tracker_raw", "users"])}


def test_dlt_then_dbt_run_then_dbt_test_against_duckdb(tmp_path, dbt_project, dbt_manifest, api, warehouse, instance):
    data = dbt_pipeline("tracker", dbt_project, ingest=tracker_ingest(api.url, duckdb_path=str(warehouse)), test={})
    result = load(tmp_path, data, dbt_manifest()).resolve_job_def("tracker__all_blocks").execute_in_process(instance=instance)

    assert result.success
    materialized = {event.asset_key for event in result.get_asset_materialization_events()}
    assert materialized == {key("ingest", "issues"), key("ingest", "users"), *(key("transform", m) for m in ("issues_per_user", "stg_issues", "stg_users"))}
    assert query(warehouse, "SELECT login, open_issues FROM analytics.issues_per_user ORDER BY login") == [("ada", 2), ("grace", 0)]
    evaluations = {e.asset_check_key.name: e for e in result.get_asset_check_evaluations()}
    assert len(evaluations) == 7 and all(e.passed for e in evaluations.values())


def test_a_failing_dbt_test_is_a_failed_check_not_a_failed_run(tmp_path, dbt_project, dbt_manifest, api, warehouse, instance):
    # A state the model does not accept (an error), and an issue of a user not loaded (a warning).
    api.resources["issues"].append({"id": 4, "title": "odd", "state": "reopened", "user_id": 99})
    data = dbt_pipeline("tracker", dbt_project, ingest=tracker_ingest(api.url, duckdb_path=str(warehouse)), test={})
    result = load(tmp_path, data, dbt_manifest()).resolve_job_def("tracker__all_blocks").execute_in_process(instance=instance)

    assert result.success
    evaluations = {e.asset_check_key.name: e for e in result.get_asset_check_evaluations()}
    accepted = evaluations["accepted_values_stg_issues_state__open__closed"]
    assert not accepted.passed and accepted.severity == dg.AssetCheckSeverity.ERROR
    assert accepted.metadata["dagster_dbt/failed_row_count"].value == 1
    related = evaluations["relationships_stg_issues_user_id__id__ref_stg_users_"]
    assert not related.passed and related.severity == dg.AssetCheckSeverity.WARN
    assert evaluations["unique_stg_issues_id"].passed
    # Recorded on the instance, where sensors and the UI read it.
    record = instance.event_log_storage.get_latest_asset_check_execution_by_key([accepted.asset_check_key])[accepted.asset_check_key]
    assert record.status.value == "FAILED"


def test_fail_on_warning_reports_a_warning_as_an_error_and_a_second_test_block_names_its_checks(tmp_path, dbt_project, dbt_manifest, api, warehouse, instance):
    api.resources["issues"].append({"id": 4, "title": "orphan", "state": "open", "user_id": 99})
    data = dbt_pipeline("tracker", dbt_project, ingest=tracker_ingest(api.url, duckdb_path=str(warehouse)), test={"fail_on_warning": True})
    # A second dbt_test block on the same models, warnings as warnings: its checks carry its id.
    data["blocks"]["audit"] = {**data["blocks"]["test"], "config": {**data["blocks"]["test"]["config"], "fail_on_warning": False}}
    data["blocks"]["transform"]["downstream"].append("audit")
    data["jobs"]["all_blocks"]["blocks"].append("audit")
    result = load(tmp_path, data, dbt_manifest()).resolve_job_def("tracker__all_blocks").execute_in_process(instance=instance)

    assert result.success
    evaluations = {e.asset_check_key.name: e for e in result.get_asset_check_evaluations()}
    assert len(evaluations) == 14
    related = evaluations["relationships_stg_issues_user_id__id__ref_stg_users_"]
    assert not related.passed and related.severity == dg.AssetCheckSeverity.ERROR
    audited = evaluations["audit__relationships_stg_issues_user_id__id__ref_stg_users_"]
    assert not audited.passed and audited.severity == dg.AssetCheckSeverity.WARN
    assert evaluations["accepted_values_stg_issues_state__open__closed"].passed
    assert evaluations["audit__accepted_values_stg_issues_state__open__closed"].passed


def test_dbt_build_with_a_failing_test_fails_the_run_as_dbt_build_does(tmp_path, dbt_project, dbt_manifest, api, warehouse, instance):
    api.resources["issues"].append({"id": 1, "title": "duplicate id", "state": "open", "user_id": 1})
    data = dbt_pipeline("tracker", dbt_project, ingest=tracker_ingest(api.url, duckdb_path=str(warehouse)), run={"command": "build"})
    result = load(tmp_path, data, dbt_manifest()).resolve_job_def("tracker__all_blocks").execute_in_process(instance=instance, raise_on_error=False)

    assert not result.success
    # dbt build skipped the models after the failing test on stg_issues.
    materialized = {event.asset_key for event in result.get_asset_materialization_events()}
    assert key("transform", "stg_issues") in materialized and key("transform", "issues_per_user") not in materialized


def test_a_subset_run_materializes_only_the_selected_model(tmp_path, dbt_project, dbt_manifest, api, warehouse, instance):
    data = dbt_pipeline("tracker", dbt_project, ingest=tracker_ingest(api.url, duckdb_path=str(warehouse)), run={"vars": {"unused": 1}})
    job = load(tmp_path, data, dbt_manifest()).resolve_job_def("tracker__all_blocks")
    ingest = [key("ingest", "issues"), key("ingest", "users")]
    assert job.execute_in_process(instance=instance, asset_selection=ingest).success
    result = job.execute_in_process(instance=instance, asset_selection=[key("transform", "stg_users")])
    assert result.success
    assert [event.asset_key for event in result.get_asset_materialization_events()] == [key("transform", "stg_users")]
    assert query(warehouse, "SELECT table_name FROM information_schema.tables WHERE table_schema = 'analytics'") == [("stg_users",)]


def test_pipelines_of_one_project_load_in_one_shard_from_the_manifests_beside_them(tmp_path, dbt_project, dbt_manifest):
    pipelines = {slug: dbt_pipeline(slug, dbt_project, ingest=None, test={}) for slug in ("sales", "support")}
    project = write_shard(tmp_path, "local_shard_1", pipelines)
    for slug, data in pipelines.items():
        write_pipeline(project / "local_shard_1" / "defs" / slug, data, dbt_manifest())
    repository = check_shard.load(project)

    keys = repository.asset_graph.get_all_asset_keys()
    for slug in pipelines:
        assert dg.AssetKey(["local", slug, "transform", "issues_per_user"]) in keys
    assert {job.name for job in repository.get_all_jobs() if not job.name.startswith("__")} == {"sales__all_blocks", "support__all_blocks"}


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d["blocks"]["transform"]["config"].update(project_dir="dbt/tracker"), r"blocks.transform.config.project_dir must be an absolute path"),
        (lambda d: d["blocks"]["transform"]["config"].update(command="seed"), r"blocks.transform.config.command must be one of build, run"),
        (lambda d: d["blocks"]["transform"]["config"].update(select="tag:nothing_has_this"), r"blocks.transform.config.select 'tag:nothing_has_this' selects no model"),
        (lambda d: d["blocks"]["test"]["config"].update(fail_on_warning=False, select="source:*"), r"blocks.test.config.project_dir: the dbt project has no test"),
    ],
)
def test_a_config_the_blocks_cannot_run_fails_the_load_naming_the_key(tmp_path, dbt_project, dbt_manifest, change, message):
    data = dbt_pipeline("tracker", dbt_project, ingest=None, test={})
    change(data)
    with pytest.raises(PipelineFileError, match=message):
        load(tmp_path, data, dbt_manifest())


def test_a_missing_manifest_says_to_deploy_again(tmp_path, dbt_project):
    path = tmp_path / "pipeline.json"
    path.write_text(json.dumps(dbt_pipeline("tracker", dbt_project, ingest=None)))
    with pytest.raises(PipelineFileError, match=r"blocks.transform needs its dbt project's manifest .* deploy the pipeline again"):
        pipeline_definitions(Pipeline.load(path))
