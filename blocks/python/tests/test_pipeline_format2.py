"""pipeline.json format 2: what Pipeline reads from it, and the errors a malformed file gets."""

import copy
import json

import dagster as dg
import pytest

from constellation_blocks import block_types
from constellation_blocks.pipeline import Input, Pipeline, PipelineFileError
from shards import pipeline as pipeline_data


@pytest.fixture
def data(tmp_path):
    return pipeline_data("sales_sync", duckdb_path=str(tmp_path / "w.duckdb"), pipeline_id="p-1")


def load(tmp_path, data) -> Pipeline:
    path = tmp_path / "pipeline.json"
    path.write_text(json.dumps(data))
    return Pipeline.load(path)


def test_reads_namespace_inputs_resource_keys_and_dagster_names(tmp_path, data):
    pipeline = load(tmp_path, data)
    assert pipeline.format == 2
    assert pipeline.key_prefix == ("local", "sales_sync") and pipeline.group == "sales_sync"
    assert pipeline.asset_key("load_customers") == dg.AssetKey(["local", "sales_sync", "load_customers"])
    assert pipeline.inputs("load_customers") == [Input("rows", ("extract_customers",), False)]
    assert pipeline.inputs("extract_customers") == []
    assert pipeline.resource_key("extract_customers") == "sales_sync__extract_customers_postgres"
    assert pipeline.resource_key("load_customers") is None
    assert pipeline.job_name("all_blocks") == "sales_sync__all_blocks"
    assert pipeline.schedule_job("every_6_hours") == "all_blocks"

    block = pipeline.block("extract_customers")
    assert block.key_prefix == ("local", "sales_sync") and block.pipeline_id == "p-1"
    assert block.asset_key() == dg.AssetKey(["local", "sales_sync", "extract_customers"])
    assert block.asset_key("load_customers") == dg.AssetKey(["local", "sales_sync", "load_customers"])
    assert pipeline.block("load_customers").name == "load_customers"  # no name: the id


def test_format_1_keeps_one_part_keys_and_has_no_format_2_fields(tmp_path, load_location):
    pipeline = load_location("customers_location").pipeline
    assert pipeline.format == 1 and pipeline.key_prefix == () and pipeline.group == "pipeline"
    assert pipeline.block("load_customers").asset_key() == dg.AssetKey(["load_customers"])
    assert pipeline.job_name("all_blocks") == "all_blocks"
    with pytest.raises(PipelineFileError, match=r"blocks.load_customers.inputs exists from format 2 on; this file is format 1"):
        pipeline.inputs("load_customers")


def test_registry_names_each_type_s_step_and_resource():
    from constellation_blocks import clickhouse, duckdb, postgres

    assert block_types.step("postgres_incremental_extract@1") is postgres.incremental_extract
    assert block_types.resource("postgres_incremental_extract@1") == block_types.ResourceSpec(postgres.PostgresResource, "connection_secret")
    assert block_types.step("clickhouse_replacing_merge_tree_load@1") is clickhouse.load_replacing_merge_tree
    assert block_types.resource("clickhouse_replacing_merge_tree_load@1").cls is clickhouse.ClickHouseResource
    assert block_types.step("duckdb_load@1") is duckdb.load_table
    assert block_types.resource("duckdb_load@1") is None
    for block_type in block_types.BLOCK_TYPES:
        assert block_types.takes_resource(block_type) == (block_types.resource(block_type) is not None)


def _break(data, change):
    broken = copy.deepcopy(data)
    change(broken)
    return broken


BROKEN = {
    "namespace missing": (lambda d: d.pop("namespace"), r"missing key\(s\) namespace"),
    "empty prefix": (lambda d: d["namespace"].update(asset_key_prefix=[]), r"namespace.asset_key_prefix is empty"),
    "prefix not a list": (lambda d: d["namespace"].update(asset_key_prefix="local"), r"namespace.asset_key_prefix must be a list, got a string"),
    "no group": (lambda d: d["namespace"].pop("group"), r"namespace.group is missing"),
    "unknown type": (
        lambda d: d["blocks"]["load_customers"].update(type="snowflake_load@1"),
        r'blocks.load_customers.type is "snowflake_load@1", a block type this version of constellation_blocks does not implement',
    ),
    "unknown upstream": (
        lambda d: d["blocks"]["load_customers"]["inputs"][0].update(upstream=["nope"]),
        r"blocks.load_customers.inputs\[0\].upstream\[0\] names no block of this pipeline: 'nope' \(known: extract_customers, load_customers\)",
    ),
    "two upstream on a single port": (
        lambda d: d["blocks"]["load_customers"]["inputs"][0].update(upstream=["extract_customers", "extract_customers"]),
        r"blocks.load_customers.inputs\[0\].upstream must name exactly one block for a port that takes one input, got 2",
    ),
    "no inputs key": (lambda d: d["blocks"]["load_customers"].pop("inputs"), r"blocks.load_customers.inputs is missing"),
    "resource key missing for postgres": (
        lambda d: d["blocks"]["extract_customers"].update(resource_key=None),
        r"blocks.extract_customers.resource_key must be a non-empty string, got None",
    ),
    "resource key for duckdb": (
        lambda d: d["blocks"]["load_customers"].update(resource_key="x"),
        r"blocks.load_customers.resource_key must be null: duckdb_load@1 takes no connection resource",
    ),
    "job without name": (lambda d: d["jobs"]["all_blocks"].pop("name"), r"jobs.all_blocks.name is missing"),
    "job of unknown block": (
        lambda d: d["jobs"]["all_blocks"]["blocks"].append("ghost"),
        r"jobs.all_blocks.blocks\[2\] names no block of this pipeline: 'ghost'",
    ),
    "schedule of unknown job": (
        lambda d: d["schedules"]["every_6_hours"].update(job="nightly"),
        r"schedules.every_6_hours.job names no job of this pipeline: 'nightly' \(known: all_blocks\)",
    ),
    "sensors": (lambda d: d["sensors"].update(s={}), r"sensors.s.name is missing"),
    "sensor of an unknown type": (
        lambda d: d["sensors"].update(s={"name": "x__s", "type": "kafka_sensor@1", "job": "all_blocks", "config": {}}),
        r'sensors.s.type is "kafka_sensor@1", a sensor type this version of constellation_blocks does not implement',
    ),
    "job checks not a boolean": (lambda d: d["jobs"]["all_blocks"].update(checks="no"), r"jobs.all_blocks.checks must be true or false, got 'no'"),
    "blocks a list": (lambda d: d.update(blocks=[]), r"blocks must be an object, got a list"),
}


@pytest.mark.parametrize("case", list(BROKEN))
def test_a_malformed_file_names_itself_and_the_key(tmp_path, data, case):
    change, message = BROKEN[case]
    with pytest.raises(PipelineFileError, match=message) as raised:
        load(tmp_path, _break(data, change))
    assert str(raised.value).startswith(f"{tmp_path / 'pipeline.json'}: ")
