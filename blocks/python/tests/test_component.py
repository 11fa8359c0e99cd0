"""PipelineComponent's definitions: what Dagster gets from a format-2 pipeline.json, and a real run."""

import json
from datetime import datetime, timedelta, timezone

import dagster as dg
import duckdb
import pytest

import customers
from constellation_blocks.building import BuiltBlock
from constellation_blocks.component import pipeline_definitions
from constellation_blocks.pipeline import Pipeline, PipelineFileError
from constellation_blocks.postgres import PostgresResource
from customers import T0
from shards import pipeline as pipeline_data

PREFIX = ["local", "sales_sync"]


@pytest.fixture
def data(tmp_path):
    return pipeline_data("sales_sync", duckdb_path=str(tmp_path / "w.duckdb"), pipeline_id="p-1")


def definitions(tmp_path, data) -> dg.Definitions:
    path = tmp_path / "pipeline.json"
    path.write_text(json.dumps(data))
    return pipeline_definitions(Pipeline.load(path))


def test_assets_carry_the_namespace_and_format_1_s_settings(tmp_path, data):
    specs = {tuple(spec.key.path): spec for spec in definitions(tmp_path, data).resolve_all_asset_specs()}
    assert set(specs) == {(*PREFIX, "extract_customers"), (*PREFIX, "load_customers")}
    extract, load = specs[(*PREFIX, "extract_customers")], specs[(*PREFIX, "load_customers")]
    assert extract.group_name == load.group_name == "sales_sync"
    assert extract.description == "Extract customers" and load.description == "Customers in DuckDB."
    assert extract.kinds == {"postgres"} and load.kinds == {"duckdb"}
    assert load.metadata == {"constellation/block_type": "duckdb_load@1", "constellation/name": "load_customers"}
    assert [dep.asset_key for dep in load.deps] == [dg.AssetKey([*PREFIX, "extract_customers"])]

    assets = {tuple(a.key.path): a for a in definitions(tmp_path, data).assets}
    extract_def = assets[(*PREFIX, "extract_customers")]
    assert extract_def.op.retry_policy == dg.RetryPolicy(max_retries=2, delay=1, backoff=dg.Backoff.EXPONENTIAL)
    assert extract_def.required_resource_keys == {"sales_sync__extract_customers_postgres", "io_manager"}
    assert assets[(*PREFIX, "load_customers")].op.retry_policy is None


def test_resources_jobs_and_schedules_use_the_compiler_s_names(tmp_path, data):
    defs = definitions(tmp_path, data)
    [extract] = [a for a in defs.assets if a.key.path[-1] == "extract_customers"]
    [resource] = extract.resource_defs.values()
    assert extract.resource_defs.keys() == {"sales_sync__extract_customers_postgres"}
    assert resource.configurable_resource_cls is PostgresResource
    assert resource.config_schema.default_value == {"url": {"env": "SOURCE_URL"}}
    job = defs.resolve_job_def("sales_sync__all_blocks")
    assert job.resource_defs.keys() == {"sales_sync__extract_customers_postgres", "io_manager"}
    assert job.run_tags == {"constellation/pipeline_id": "p-1", "constellation/pipeline_version": "1"}
    assert job.asset_layer.executable_asset_keys == {dg.AssetKey([*PREFIX, "extract_customers"]), dg.AssetKey([*PREFIX, "load_customers"])}
    schedule = defs.resolve_schedule_def("sales_sync__every_6_hours")
    assert (schedule.job_name, schedule.cron_schedule, schedule.execution_timezone) == ("sales_sync__all_blocks", "0 */6 * * *", "UTC")
    assert schedule.default_status == dg.DefaultScheduleStatus.RUNNING


def test_a_partitioned_pipeline_s_schedule_asks_for_the_last_complete_window(tmp_path, data):
    data["partitions"] = {"type": "daily", "start_date": "2024-01-01", "end_date": None, "timezone": "UTC"}
    defs = definitions(tmp_path, data)
    [spec] = [s for s in defs.resolve_all_asset_specs() if s.key.path[-1] == "load_customers"]
    assert isinstance(spec.partitions_def, dg.DailyPartitionsDefinition)
    tick = dg.build_schedule_context(
        scheduled_execution_time=datetime(2024, 3, 5, 6, tzinfo=timezone.utc), repository_def=defs.get_repository_def()
    )
    [request] = defs.resolve_schedule_def("sales_sync__every_6_hours").evaluate_tick(tick).run_requests
    assert request.partition_key == "2024-03-04"


def test_format_1_is_refused(tmp_path, load_location):
    pipeline = load_location("customers_location").pipeline
    with pytest.raises(PipelineFileError, match=r"format 1 belongs to a one-pipeline location's definitions.py; PipelineComponent reads format 2"):
        pipeline_definitions(pipeline)


def test_blocks_sharing_a_resource_key_must_share_the_connection(tmp_path, data):
    second = json.loads(json.dumps(data["blocks"]["extract_customers"]))
    second["config"]["connection_secret"] = "OTHER_URL"
    second["downstream"] = []
    data["blocks"]["extract_more"] = second
    with pytest.raises(PipelineFileError, match=r'blocks.extract_more.resource_key "sales_sync__extract_customers_postgres" is already the key of another connection'):
        definitions(tmp_path, data)


def test_a_multiple_port_receives_every_upstream_and_commits_each_watermark(tmp_path, data, pg_url, instance, monkeypatch):
    """Two extracts feed one `multiple` port: the step gets a list, and each extract resumes on its own."""
    monkeypatch.setenv("SOURCE_URL", pg_url)
    customers.seed_ten(pg_url)
    second = json.loads(json.dumps(data["blocks"]["extract_customers"]))
    second["config"]["initial_watermark"] = (T0 + timedelta(minutes=8)).isoformat()
    data["blocks"]["extract_recent"] = second
    data["blocks"]["load_customers"]["inputs"] = [{"port": "rows", "upstream": ["extract_customers", "extract_recent"], "multiple": True}]
    data["blocks"]["load_customers"]["config"]["mode"] = "append"
    data["jobs"]["all_blocks"]["blocks"].append("extract_recent")
    defs = definitions(tmp_path, data)

    job = defs.resolve_job_def("sales_sync__all_blocks")
    [load] = job.execute_in_process(instance=instance).asset_materializations_for_node("local__sales_sync__load_customers")
    # All ten rows, then ids 1 (updated at +30 min), 8, 9 and 10 from the extract starting at +8 min.
    assert load.metadata["rows_written"].value == 14
    latest = (T0 + timedelta(minutes=30)).isoformat()
    assert load.metadata["constellation/watermark/extract_customers"].value == latest
    assert load.metadata["constellation/watermark/extract_recent"].value == latest
    with duckdb.connect(str(tmp_path / "w.duckdb"), read_only=True) as con:
        assert con.execute("SELECT count(*), count(DISTINCT id) FROM main.customers").fetchone() == (14, 10)

    customers.insert(pg_url, [{"id": 11, "created_at": T0 + timedelta(minutes=40)}])
    result = job.execute_in_process(instance=instance)
    for node in ("local__sales_sync__extract_customers", "local__sales_sync__extract_recent"):
        [extract] = result.asset_materializations_for_node(node)
        assert extract.metadata["constellation/previous_watermark"].value == latest
        assert extract.metadata["total_rows"].value == 2  # id 1 again (at the watermark) and id 11


def test_a_job_with_checks_false_runs_no_check(tmp_path, data):
    @dg.asset(key=[*PREFIX, "orders"])
    def orders():
        return 1

    @dg.asset_check(asset=orders)
    def not_empty():
        return dg.AssetCheckResult(passed=True)

    data["jobs"]["refresh"] = {"name": "sales_sync__refresh", "blocks": ["load_customers"], "description": None, "checks": False}
    data["jobs"]["checked"] = {"name": "sales_sync__checked", "blocks": ["load_customers"], "description": None, "checks": True}
    path = tmp_path / "pipeline.json"
    path.write_text(json.dumps(data))
    pipeline = Pipeline.load(path)
    # What a block making an asset and a check on it gives the component (a dbt or GE block does).
    built = {"load_customers": BuiltBlock(assets=[orders], checks=[not_empty], keys=(orders.key,))}
    defs = dg.Definitions(assets=[orders], asset_checks=[not_empty], jobs=[pipeline.asset_job(j, built) for j in ("refresh", "checked")])
    refresh = defs.resolve_job_def("sales_sync__refresh").execute_in_process()
    checked = defs.resolve_job_def("sales_sync__checked").execute_in_process()
    assert [e.asset_key for e in refresh.get_asset_materialization_events()] == [orders.key]
    assert [e.asset_key for e in checked.get_asset_materialization_events()] == [orders.key]
    assert refresh.get_asset_check_evaluations() == []
    assert [e.check_name for e in checked.get_asset_check_evaluations()] == ["not_empty"]
