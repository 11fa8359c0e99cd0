"""Watermarks by full asset key, and the carry-over from a legacy one-pipeline location.

The legacy side is a real generated location (fixtures/duckdb_location, format 1, one-part keys);
the moved pipeline is the same pipeline compiled to format 2 (prefixed keys), both run on one
Dagster instance against the test Postgres and DuckDB files.
"""

import json
from datetime import timedelta

import pytest

import customers
from constellation_blocks.component import pipeline_definitions
from constellation_blocks.pipeline import Pipeline
from customers import T0
from shards import pipeline as pipeline_data

LEGACY_ID = "3c0ffee0-0000-4000-8000-000000000002"  # fixtures/duckdb_location/pipeline.json
EXTRACT = "local__customers__extract_customers"


@pytest.fixture
def legacy_run(load_location, pg_url, instance, tmp_path, monkeypatch):
    """The legacy location has run once: ten customers loaded, its watermark at T0+30 min."""
    monkeypatch.setenv("SOURCE_DB_URL", pg_url)
    customers.seed_ten(pg_url)
    module = load_location("duckdb_location", load_customers={"database_path": str(tmp_path / "legacy.duckdb")})
    assert customers.run(module, instance).success
    customers.insert(pg_url, [{"id": 11, "created_at": T0 + timedelta(minutes=40)}])


def moved(tmp_path, pipeline_id: str):
    """The pipeline compiled into a shard (same block ids, prefixed keys), reading the same source."""
    data = pipeline_data("customers", duckdb_path=str(tmp_path / "shard.duckdb"), pipeline_id=pipeline_id, source_secret="SOURCE_DB_URL")
    path = tmp_path / "pipeline.json"
    path.write_text(json.dumps(data))
    return pipeline_definitions(Pipeline.load(path)).resolve_job_def("customers__all_blocks")


def extract(result) -> dict:
    [materialization] = result.asset_materializations_for_node(EXTRACT)
    return {key: value.value for key, value in materialization.metadata.items()}


def test_a_moved_pipeline_resumes_from_its_legacy_watermark_then_from_its_own(legacy_run, tmp_path, instance):
    job = moved(tmp_path, LEGACY_ID)
    first = extract(job.execute_in_process(instance=instance))
    assert first["constellation/previous_watermark"] == (T0 + timedelta(minutes=30)).isoformat()
    assert first["total_rows"] == 2 and first["initial_load"] is False  # id 1 (at the watermark) and id 11
    # Now the full key has its own materialization: the legacy key (still at +30 min) is not read.
    second = extract(job.execute_in_process(instance=instance))
    assert second["constellation/previous_watermark"] == (T0 + timedelta(minutes=40)).isoformat()
    assert second["total_rows"] == 1


def test_another_pipeline_s_legacy_asset_of_the_same_name_is_ignored(legacy_run, tmp_path, instance):
    job = moved(tmp_path, "11111111-0000-4000-8000-000000000009")
    first = extract(job.execute_in_process(instance=instance))
    assert first["initial_load"] is True and first["total_rows"] == 11  # the whole table, as a new pipeline reads it


def test_the_pipeline_s_own_legacy_watermark_is_found_behind_another_s_later_one(legacy_run, load_location, tmp_path, instance):
    """Two legacy pipelines shared the one-part key; the other ran last, at a later watermark."""
    other_id = "22222222-0000-4000-8000-000000000009"
    other = load_location(
        "duckdb_location",
        top_level={
            "pipeline": {"id": other_id, "name": "Other", "description": None, "version": 1},
            "run_tags": {"constellation/pipeline_id": other_id, "constellation/pipeline_version": "1"},
        },
        load_customers={"database_path": str(tmp_path / "other.duckdb")},
    )
    assert customers.run(other, instance).success  # the legacy key's latest watermark is now T0+40 min

    first = extract(moved(tmp_path, LEGACY_ID).execute_in_process(instance=instance))
    assert first["constellation/previous_watermark"] == (T0 + timedelta(minutes=30)).isoformat()
