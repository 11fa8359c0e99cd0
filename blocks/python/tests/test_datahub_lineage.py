"""datahub_metadata_ingestion@1: acryl-datahub's REST emitter against a local stand-in of DataHub GMS.

The upstream blocks are real (Postgres extract → DuckDB load; dlt into DuckDB, checked by Great
Expectations); the stand-in implements the GMS endpoints the emitter calls and keeps what arrives.
"""

import dagster as dg
import pytest

import customers
from constellation_blocks.component import build_blocks, pipeline_definitions
from constellation_blocks.pipeline import Pipeline, PipelineFileError
from customers import T0
from dlt_pipelines import rest_api_config
from pipelines import pipeline
from stand_ins import DataHubGms, PagedJsonServer

URN = "urn:li:dataset:(urn:li:dataPlatform:duckdb,local.crm.{},DEV)"


@pytest.fixture
def gms(monkeypatch):
    monkeypatch.setenv("DATAHUB_TOKEN", "dh-token")
    server = DataHubGms()
    yield server
    server.stop()


def datahub(gms_url: str, **overrides) -> dict:
    return {"gms_url": gms_url, "platform": "duckdb", "env": "DEV", "token_secret": "DATAHUB_TOKEN", **overrides}


def crm(pg_url: str, warehouse: str, gms_url: str, **overrides) -> dict:
    """extract (Postgres) → load (DuckDB) → publish (DataHub): publish sees both, and the edge between them."""
    return pipeline("crm", {
        "extract": ("postgres_incremental_extract@1", {"table": "public.customers", "connection_secret": "CRM_DB"}),
        "load": ("duckdb_load@1", {"database_path": warehouse, "table": "main.customers"}, {"rows": ["extract"]}),
        "publish": ("datahub_metadata_ingestion@1", datahub(gms_url, **overrides), {"datasets": ["load"]}),
    }, resource_keys={"extract": "crm__extract_postgres"})


@pytest.fixture
def source(pg_url, monkeypatch):
    customers.create(pg_url)
    customers.insert(pg_url, [{"id": i, "created_at": T0} for i in range(1, 4)])
    monkeypatch.setenv("CRM_DB", pg_url)
    return pg_url


def run(data: dict, instance, job: str) -> dg.ExecuteInProcessResult:
    return pipeline_definitions(Pipeline(data)).resolve_job_def(job).execute_in_process(instance=instance, raise_on_error=False)


def test_publishes_every_upstream_asset_with_its_lineage(source, gms, instance, tmp_path):
    result = run(crm(source, str(tmp_path / "w.duckdb"), gms.url), instance, "crm__all_blocks")
    assert result.success

    assert [r["method"] + " " + r["path"] for r in gms.requests] == ["GET /config", "POST /aspects?action=ingestProposalBatch"]
    assert {r["headers"].get("Authorization") for r in gms.requests} == {"Bearer dh-token"}
    proposals = {(p["entityUrn"], p["aspectName"]): p["aspect"] for p in gms.proposals()}
    # Both blocks it depends on, transitively; not itself.
    assert set(proposals) == {
        (URN.format("extract"), "datasetProperties"),
        (URN.format("load"), "datasetProperties"),
        (URN.format("load"), "upstreamLineage"),
    }
    assert proposals[(URN.format("load"), "upstreamLineage")]["upstreams"] == [
        {"auditStamp": {"time": 0, "actor": "urn:li:corpuser:unknown"}, "dataset": URN.format("extract"), "type": "TRANSFORMED"}
    ]
    properties = proposals[(URN.format("extract"), "datasetProperties")]
    assert properties["name"] == "extract"
    assert properties["customProperties"] == {"dagster_asset_key": "local/crm/extract", "constellation_pipeline": "Pipeline crm"}
    [materialization] = [m for m in result.get_asset_materialization_events() if m.asset_key.path[-1] == "publish"]
    assert materialization.materialization.metadata["lineage_edges"].value == 1


def test_without_lineage_only_the_datasets_arrive(source, gms, instance, tmp_path):
    assert run(crm(source, str(tmp_path / "w.duckdb"), gms.url, include_lineage=False), instance, "crm__all_blocks").success
    assert {p["aspectName"] for p in gms.proposals()} == {"datasetProperties"}


def test_it_runs_after_its_upstream_and_depends_on_it(source, gms, tmp_path):
    built = build_blocks(Pipeline(crm(source, str(tmp_path / "w.duckdb"), gms.url)), {})
    [asset] = built["publish"].assets
    assert asset.asset_deps[dg.AssetKey(["local", "crm", "publish"])] == {dg.AssetKey(["local", "crm", "load"])}
    assert gms.requests == []  # loading asked nothing of GMS


def test_a_failed_blocking_check_upstream_stops_the_publish(gms, instance, tmp_path):
    api = PagedJsonServer({"issues": [{"id": 1, "title": None}], "users": [{"id": 1}]})
    try:
        warehouse = str(tmp_path / "w.duckdb")
        data = pipeline("crm", {
            "ingest": ("dlt_ingestion@1", rest_api_config(api.url, duckdb_path=warehouse, dataset_name="crm_raw", write_disposition="merge", primary_key=["id"])),
            "validate": ("great_expectations_validation@1", {
                "table": "issues", "schema": "crm_raw", "duckdb_path": warehouse,
                "expectations": [{"type": "expect_column_values_to_not_be_null", "kwargs": {"column": "title"}}],
            }, {"tables": ["ingest"]}),
            "publish": ("datahub_metadata_ingestion@1", datahub(gms.url), {"datasets": ["validate"]}),
        })
        failed = run(data, instance, "crm__all_blocks")
        assert not failed.success and gms.requests == []

        # Through the check block, down to the tables dlt made.
        api.resources["issues"][0]["title"] = "fixed"
        assert run(data, instance, "crm__all_blocks").success
        urns = {p["entityUrn"] for p in gms.proposals()}
        assert urns == {URN.format("ingest.issues"), URN.format("ingest.users")}
    finally:
        api.stop()


def test_a_missing_token_fails_the_run_not_the_load(source, gms, instance, tmp_path, monkeypatch):
    monkeypatch.delenv("DATAHUB_TOKEN")
    job = pipeline_definitions(Pipeline(crm(source, str(tmp_path / "w.duckdb"), gms.url))).resolve_job_def("crm__all_blocks")
    with pytest.raises(dg.DagsterInvalidConfigError, match='environment variable "DATAHUB_TOKEN" which is not set'):
        job.execute_in_process(instance=instance)
    assert gms.requests == []


def test_a_url_that_is_not_gms_fails_the_run_saying_so(source, instance, tmp_path, monkeypatch):
    monkeypatch.setenv("DATAHUB_TOKEN", "t")
    api = PagedJsonServer({"config": []})  # answers /config, but not as GMS does
    try:
        result = run(crm(source, str(tmp_path / "w.duckdb"), api.url), instance, "crm__all_blocks")
    finally:
        api.stop()
    [failure] = [e for e in result.all_events if e.is_step_failure]
    assert "frontend service instead of the GMS endpoint" in failure.step_failure_data.error.to_string()


@pytest.mark.parametrize("key", ["gms_url", "platform"])
def test_a_block_without_gms_url_or_platform_fails_the_load_naming_it(tmp_path, key):
    data = crm("postgresql://x@127.0.0.1:9/x", str(tmp_path / "w.duckdb"), "http://127.0.0.1:9")
    del data["blocks"]["publish"]["config"][key]
    with pytest.raises(PipelineFileError, match=rf"blocks.publish.config.{key} is required"):
        pipeline_definitions(Pipeline(data))
