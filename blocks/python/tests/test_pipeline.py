"""Pipeline: what definitions.py gets from pipeline.json, and the generated location loading."""

import copy
import json
import os
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path

import dagster as dg
import pytest

from constellation_blocks import block_types
from constellation_blocks.pipeline import GROUP_NAME, Pipeline, PipelineFileError

FIXTURE = Path(__file__).parent / "fixtures" / "customers_location"
MANIFESTS = Path(__file__).parents[2] / "manifests"


@pytest.fixture
def data():
    return json.loads((FIXTURE / "pipeline.json").read_text())


def write(tmp_path, data) -> Path:
    path = tmp_path / "pipeline.json"
    path.write_text(json.dumps(data))
    return path


def test_load_rejects_an_unknown_format(tmp_path, data):
    data["format"] = 3
    with pytest.raises(PipelineFileError, match=r"format 3 is not supported; this version of constellation_blocks reads formats 1 and 2"):
        Pipeline.load(write(tmp_path, data))


def test_load_rejects_missing_keys_unknown_block_types_and_bad_json(tmp_path, data):
    broken = copy.deepcopy(data)
    del broken["run_tags"]
    with pytest.raises(PipelineFileError, match="missing key"):
        Pipeline.load(write(tmp_path, broken))
    data["blocks"]["load_customers"]["type"] = "snowflake_load@1"
    with pytest.raises(PipelineFileError, match="snowflake_load@1 are not implemented"):
        Pipeline.load(write(tmp_path, data))
    (tmp_path / "bad.json").write_text("{")
    with pytest.raises(PipelineFileError, match="not valid JSON"):
        Pipeline.load(tmp_path / "bad.json")
    with pytest.raises(PipelineFileError, match="not found"):
        Pipeline.load(tmp_path / "absent.json")


def test_block_fills_manifest_defaults_for_absent_keys(tmp_path, data):
    config = data["blocks"]["extract_customers"]["config"]
    del config["batch_size"], config["created_at_column"]
    block = Pipeline.load(write(tmp_path, data)).block("extract_customers")
    assert block.config["batch_size"] == 10000 and block.config["created_at_column"] == "created_at"
    assert block.config["connection_secret"] == "SOURCE_DB_URL"
    assert (block.id, block.type, block.name, block.description, block.downstream) == (
        "extract_customers", "postgres_incremental_extract@1", "Extract customers", None, ["load_customers"]
    )
    with pytest.raises(PipelineFileError, match='no block "nope"'):
        Pipeline.load(write(tmp_path, data)).block("nope")


def test_block_type_defaults_match_the_manifests():
    for block_type, entry in block_types.BLOCK_TYPES.items():
        slug = block_type.split("@")[0]
        schema = json.loads((MANIFESTS / f"{slug}.json").read_text())["config_schema"]
        defaults = {key: prop["default"] for key, prop in schema["properties"].items() if "default" in prop}
        assert entry["defaults"] == defaults, block_type


def test_asset_args(tmp_path, data):
    pipeline = Pipeline.load(write(tmp_path, data))
    extract = pipeline.asset_args("extract_customers")
    assert extract["description"] == "Extract customers"  # no description: the display name
    assert extract["metadata"] == {"constellation/block_type": "postgres_incremental_extract@1", "constellation/name": "Extract customers"}
    assert extract["kinds"] == {"postgres"} and extract["group_name"] == GROUP_NAME
    assert extract["retry_policy"] == dg.RetryPolicy(max_retries=3, delay=10, backoff=dg.Backoff.EXPONENTIAL)
    assert "partitions_def" not in extract
    load = pipeline.asset_args("load_customers")
    assert load["kinds"] == {"clickhouse"} and "retry_policy" not in load

    data["blocks"]["load_customers"]["description"] = "Customers, deduplicated by id."
    data["blocks"]["load_customers"]["retry_policy"] = {"max_retries": 2, "delay_seconds": 5, "backoff": "linear", "jitter": "plus_minus"}
    pipeline = Pipeline.load(write(tmp_path, data))
    load = pipeline.asset_args("load_customers")
    assert load["description"] == "Customers, deduplicated by id."
    assert load["retry_policy"] == dg.RetryPolicy(max_retries=2, delay=5, backoff=dg.Backoff.LINEAR, jitter=dg.Jitter.PLUS_MINUS)


def test_daily_partitions_and_their_schedule(load_location):
    daily = {"type": "daily", "start_date": "2024-01-01", "end_date": None, "timezone": "UTC"}
    module = load_location("customers_location", top_level={"partitions": daily})
    partitions = module.pipeline.asset_args("extract_customers")["partitions_def"]
    assert isinstance(partitions, dg.DailyPartitionsDefinition)
    assert partitions is module.pipeline.asset_args("load_customers")["partitions_def"]
    assert partitions.get_first_partition_key() == "2024-01-01"

    schedule = module.defs.resolve_schedule_def("every_6_hours")
    assert schedule.cron_schedule == "0 */6 * * *"  # the user's cron, not the partitions' cadence
    tick = dg.build_schedule_context(
        scheduled_execution_time=datetime(2024, 3, 5, 6, tzinfo=timezone.utc), repository_def=module.defs.get_repository_def()
    )
    [request] = schedule.evaluate_tick(tick).run_requests
    assert request.partition_key == "2024-03-04"  # the last day complete at the tick


def test_hourly_and_static_partitions(tmp_path, data, load_location):
    data["partitions"] = {"type": "hourly", "start_date": "2024-01-01", "end_date": "2024-01-02", "timezone": "UTC"}
    partitions = Pipeline.load(write(tmp_path, data)).asset_args("extract_customers")["partitions_def"]
    assert len(partitions.get_partition_keys()) == 24

    module = load_location("customers_location", top_level={"partitions": {"type": "static", "values": ["eu", "us"]}})
    assert module.pipeline.asset_args("load_customers")["partitions_def"].get_partition_keys() == ["eu", "us"]
    tick = dg.build_schedule_context(
        scheduled_execution_time=datetime(2024, 3, 5, 6, tzinfo=timezone.utc), repository_def=module.defs.get_repository_def()
    )
    requests = module.defs.resolve_schedule_def("every_6_hours").evaluate_tick(tick).run_requests
    assert [r.partition_key for r in requests] == ["eu", "us"]


def test_secret_is_an_env_var_named_by_config(tmp_path, data):
    pipeline = Pipeline.load(write(tmp_path, data))
    assert pipeline.secret("load_customers", "connection_secret") == dg.EnvVar("WAREHOUSE_URL")
    data["blocks"]["load_customers"]["config"]["connection_secret"] = "lower-case"
    with pytest.raises(PipelineFileError, match="must name an environment variable"):
        Pipeline.load(write(tmp_path, data)).secret("load_customers", "connection_secret")


def test_generated_location_schedule_job_and_assets(load_location):
    module = load_location("customers_location")
    schedule = module.defs.resolve_schedule_def("every_6_hours")
    assert schedule.cron_schedule == "0 */6 * * *"
    assert schedule.execution_timezone == "UTC"
    assert schedule.default_status == dg.DefaultScheduleStatus.RUNNING
    assert schedule.job_name == "all_blocks"
    job = module.defs.resolve_job_def("all_blocks")
    assert job.run_tags == {"constellation/pipeline_id": "6f1c2d3e-0000-4000-8000-000000000000", "constellation/pipeline_version": "3"}
    specs = {spec.key.to_user_string(): spec for spec in module.defs.resolve_all_asset_specs()}
    assert set(specs) == {"extract_customers", "load_customers"}
    assert specs["load_customers"].description == "Load → ClickHouse"
    assert [dep.asset_key.to_user_string() for dep in specs["load_customers"].deps] == ["extract_customers"]


def test_dagster_definitions_validate_accepts_the_fixture(tmp_path):
    home = tmp_path / "dagster_home"
    home.mkdir()
    (home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    env = {**os.environ, "DAGSTER_HOME": str(home)}
    dagster = Path(sys.executable).with_name("dagster")
    result = subprocess.run(
        [str(dagster), "definitions", "validate", "-f", str(FIXTURE / "definitions.py")],
        env=env, capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
