"""Two pipelines built from the same block names share a shard, run in one Dagster, keep their own watermarks."""

from datetime import timedelta

import dagster as dg
import duckdb

import customers
from constellation_blocks import check_shard
from customers import T0
from shards import pipeline, write_shard


def extract(result: dg.ExecuteInProcessResult, slug: str) -> dict:
    [materialization] = result.asset_materializations_for_node(f"local__{slug}__extract_customers")
    return {key: value.value for key, value in materialization.metadata.items()}


def rows(path) -> int:
    with duckdb.connect(str(path), read_only=True) as con:
        return con.execute("SELECT count(*) FROM main.customers").fetchone()[0]


def test_two_pipelines_of_one_shard_run_with_independent_watermarks(tmp_path, pg_url, instance, monkeypatch):
    monkeypatch.setenv("SOURCE_URL", pg_url)
    customers.seed_ten(pg_url)
    project = write_shard(
        tmp_path,
        "local_shard_1",
        {
            "sales": pipeline("sales", duckdb_path=str(tmp_path / "sales.duckdb")),
            "crm": pipeline("crm", duckdb_path=str(tmp_path / "crm.duckdb")),
        },
    )
    # Loaded as Dagster's code server loads the workspace entry; the jobs run from that repository.
    repository = check_shard.load(project)
    sales, crm = repository.get_job("sales__all_blocks"), repository.get_job("crm__all_blocks")

    first = sales.execute_in_process(instance=instance)
    assert first.success and extract(first, "sales")["total_rows"] == 10
    customers.insert(pg_url, [{"id": 11, "created_at": T0 + timedelta(minutes=40)}])

    # crm has never run: it reads everything, not from sales' watermark (which would give 2 rows).
    crm_first = crm.execute_in_process(instance=instance)
    assert crm_first.success
    assert extract(crm_first, "crm")["initial_load"] is True and extract(crm_first, "crm")["total_rows"] == 11

    # sales resumes from its own watermark (+30 min), not crm's (+40 min).
    second = sales.execute_in_process(instance=instance)
    assert second.success
    assert extract(second, "sales")["constellation/previous_watermark"] == (T0 + timedelta(minutes=30)).isoformat()
    assert extract(second, "sales")["total_rows"] == 2
    assert rows(tmp_path / "sales.duckdb") == rows(tmp_path / "crm.duckdb") == 11

    def latest(slug: str) -> str:
        entry = instance.get_latest_materialization_event(dg.AssetKey(["local", slug, "load_customers"]))
        return entry.asset_materialization.metadata["constellation/watermark"].value

    assert latest("sales") == latest("crm") == (T0 + timedelta(minutes=40)).isoformat()
    # Each run carries its own pipeline's tags.
    assert instance.get_run_by_id(crm_first.run_id).tags["constellation/pipeline_id"] != instance.get_run_by_id(
        second.run_id
    ).tags["constellation/pipeline_id"]


def test_a_job_of_a_shard_carries_only_its_own_pipeline_s_connections(tmp_path):
    # A job's run-config schema, and so the snapshot Dagster fetches on every reload, holds each
    # resource the job carries: carrying every pipeline's, a shard's snapshot grows with N².
    slugs = ["sales", "crm", "ops"]
    project = write_shard(tmp_path, "local_shard_1", {s: pipeline(s, duckdb_path=str(tmp_path / f"{s}.duckdb")) for s in slugs})
    repository = check_shard.load(project)
    for slug in slugs:
        job = repository.get_job(f"{slug}__all_blocks")
        assert set(job.resource_defs) == {f"{slug}__extract_customers_postgres", "io_manager"}
        assert set(job.run_config_schema.config_type.fields["resources"].config_type.fields) == set(job.resource_defs)
