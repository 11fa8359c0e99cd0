"""dlt_ingestion pipelines in a shard project, loaded as Dagster loads it, run from that repository."""

import subprocess
import sys
from pathlib import Path

import dagster as dg
import duckdb

from constellation_blocks import check_shard
from dlt_pipelines import dlt_pipeline, rest_api_config
from stand_ins import PagedJsonServer
from shards import write_shard


def test_two_pipelines_with_one_dlt_pipeline_name_load_and_run_apart_in_one_shard(tmp_path, instance):
    api = PagedJsonServer({"issues": [{"id": i, "title": f"issue {i}"} for i in range(1, 4)], "users": [{"id": 1}]})
    try:
        # Both call their dlt pipeline "tracker": each keeps its own state, in its own destination.
        pipelines = {
            slug: dlt_pipeline(slug, rest_api_config(api.url, duckdb_path=str(tmp_path / f"{slug}.duckdb"), write_disposition="merge", primary_key=["id"]))
            for slug in ("sales", "support")
        }
        project = write_shard(tmp_path, "local_shard_1", pipelines)
        repository = check_shard.load(project)

        sales, support = repository.get_job("sales__all_blocks"), repository.get_job("support__all_blocks")
        # A job carries only its own pipeline's dlt resource.
        assert set(sales.resource_defs) == {"sales__ingest_dlt", "io_manager"}
        assert sales.execute_in_process(instance=instance).success
        assert sales.execute_in_process(instance=instance).success
        assert support.execute_in_process(instance=instance).success
    finally:
        api.stop()

    for slug in ("sales", "support"):
        with duckdb.connect(str(tmp_path / f"{slug}.duckdb"), read_only=True) as con:
            assert con.execute("SELECT count(*), count(DISTINCT id) FROM tracker_raw.issues").fetchone() == (3, 3)
        key = dg.AssetKey(["local", slug, "ingest", "issues"])
        assert instance.get_latest_materialization_event(key) is not None
    # dlt's scratch folders, one per pipeline, block and run, went with their runs.
    scratch = Path(instance.storage_directory()) / "dlt"
    assert {p.name for p in scratch.iterdir()} == {data["pipeline"]["id"] for data in pipelines.values()}
    assert not [p for p in scratch.rglob("*") if p.is_file()]


def test_check_shard_accepts_a_shard_with_a_dlt_pipeline(tmp_path):
    pipelines = {"sales": dlt_pipeline("sales", rest_api_config("http://127.0.0.1:9/", duckdb_path=str(tmp_path / "w.duckdb")))}
    project = write_shard(tmp_path, "local_shard_1", pipelines)
    done = subprocess.run(
        [sys.executable, "-m", "constellation_blocks.check_shard", str(project)], capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr[-3000:]
