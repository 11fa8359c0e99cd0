"""Seed 004's compiled pipeline.json as Dagster sees it: a golden listing of what the component makes.

The pipeline.json is the compiler's own output, the file snapshot test/compile/compile.test.ts
keeps (test/compile/__snapshots__/seed-004/pipeline.json): dlt and Airbyte → dbt models → dbt
tests and a Great Expectations check → DataHub, six jobs, two schedules, three sensors. Its dbt
blocks are pointed at the session copy of the fixture dbt project, and the folder is written as a
deploy writes it (a parsed manifest beside pipeline.json for each dbt block).

The listing (tests/snapshots/seed_004_defs.txt) names every asset, asset check, job, schedule and
sensor Dagster gets, so a change to any of them shows as a diff a reviewer can read. When the
change is meant, regenerate it and review the file's diff:

    cd blocks/python && UPDATE_SNAPSHOTS=1 ../../.venv/bin/python -m pytest -q -p no:cacheprovider tests/test_seed_004_defs.py

Building loads only: nothing here runs dlt, Airbyte, dbt, Great Expectations or DataHub.
"""

import difflib
import json
import os
from pathlib import Path

import dagster as dg
import pytest

from constellation_blocks import duckdb_steps
from constellation_blocks.component import pipeline_definitions
from constellation_blocks.pipeline import Pipeline
from dbt_pipelines import dbt_manifest, dbt_project, write_pipeline  # noqa: F401 (fixtures)

REPO = Path(__file__).resolve().parents[3]
COMPILED = REPO / "test" / "compile" / "__snapshots__" / "seed-004" / "pipeline.json"
GOLDEN = Path(__file__).parent / "snapshots" / "seed_004_defs.txt"


def key(*parts: str) -> dg.AssetKey:
    return dg.AssetKey(["local", "issue_tracker_stack", *parts])


MODELS = [key("transform", name) for name in ("issues_per_user", "stg_issues", "stg_users")]


@pytest.fixture(scope="module")
def defs(dbt_project, dbt_manifest, tmp_path_factory) -> dg.Definitions:
    """The compiled seed 004 pipeline's definitions, built once: the dbt manifest parse is what takes time."""
    data = json.loads(COMPILED.read_text())
    for block in data["blocks"].values():
        if block["type"].startswith("dbt_"):
            # The compile snapshot names a deploy's path (/srv/tracker/dbt_project); the tests' copy is elsewhere.
            block["config"]["project_dir"] = block["config"]["profiles_dir"] = str(dbt_project)
    folder = tmp_path_factory.mktemp("seed_004") / "issue_tracker_stack"
    return pipeline_definitions(Pipeline.load(write_pipeline(folder, data, dbt_manifest())))


def first_line(text: str | None) -> str:
    lines = (text or "").strip().splitlines()
    return lines[0] if lines else "(none)"


def names(keys) -> list[str]:
    """Asset or check keys in Dagster's own notation (a/b/c, a/b/c:check), sorted."""
    return sorted(k.to_user_string() for k in keys)


def listing(defs: dg.Definitions) -> str:
    """What Dagster makes of the pipeline, as plain text: assets, asset checks, jobs, schedules, sensors."""
    graph = defs.resolve_asset_graph()
    lines = ["# What Dagster makes of test/compile/__snapshots__/seed-004/pipeline.json (see test_seed_004_defs.py).", ""]

    lines.append("assets")
    for asset_key in sorted(graph.get_all_asset_keys(), key=lambda k: k.path):
        node = graph.get(asset_key)
        lines += [
            f"  {asset_key.to_user_string()}",
            f"    group: {node.group_name}",
            f"    kinds: {', '.join(sorted(node.kinds)) or '(none)'}",
            f"    deps: {', '.join(names(node.parent_keys)) or '(none)'}",
            f"    description: {first_line(node.description)}",
        ]

    lines += ["", "asset checks"]
    for check_key in sorted(graph.asset_check_keys, key=lambda c: (c.asset_key.path, c.name)):
        blocking = "blocking" if graph.get_check_spec(check_key).blocking else "non-blocking"
        lines.append(f"  {check_key.to_user_string()} ({blocking})")

    lines += ["", "jobs"]
    for job in sorted(defs.jobs, key=lambda j: j.name):
        lines += [f"  {job.name}", f"    description: {first_line(job.description)}", "    assets:"]
        lines += [f"      {name}" for name in names(job.selection.resolve(graph))] or ["      (none)"]
        lines.append("    checks:")
        lines += [f"      {name}" for name in names(job.selection.resolve_checks(graph))] or ["      (none)"]

    lines += ["", "schedules"]
    for schedule in sorted(defs.schedules, key=lambda s: s.name):
        lines += [
            f"  {schedule.name}",
            f"    cron: {schedule.cron_schedule} ({schedule.execution_timezone})",
            f"    job: {schedule.job_name}",
            f"    default status: {schedule.default_status.value}",
        ]

    lines += ["", "sensors"]
    for sensor in sorted(defs.sensors, key=lambda s: s.name):
        lines += [
            f"  {sensor.name}",
            f"    job: {sensor.job_name}",
            f"    minimum interval: {sensor.minimum_interval_seconds} s",
            f"    default status: {sensor.default_status.value}",
        ]
    return "\n".join(lines) + "\n"


def test_the_definitions_match_the_golden_listing(defs, dbt_project):
    # Every job must resolve against the assets, as the code server checks on load.
    dg.Definitions.validate_loadable(defs)
    # Nothing listed should depend on where this machine keeps its temporary files.
    actual = listing(defs).replace(str(dbt_project), "<dbt project>")
    if os.environ.get("UPDATE_SNAPSHOTS") == "1":
        GOLDEN.parent.mkdir(exist_ok=True)
        GOLDEN.write_text(actual)
    expected = GOLDEN.read_text() if GOLDEN.exists() else ""
    if actual != expected:
        golden = str(GOLDEN.relative_to(REPO))
        diff = difflib.unified_diff(expected.splitlines(keepends=True), actual.splitlines(keepends=True), golden, "what Dagster makes now")
        pytest.fail(f"The definitions differ from {golden}; if the change is meant, rerun with UPDATE_SNAPSHOTS=1.\n{''.join(diff)}", pytrace=False)


def test_the_dbt_models_depend_on_the_dlt_tables_and_wait_for_the_airbyte_sync(defs):
    graph = defs.resolve_asset_graph()
    # The project's sources tracker_raw.issues and .users are the dlt block's tables: lineage starts at the ingestion.
    # The Airbyte sync, connected to the same port but read by no source, is a dep of the root models: dbt runs after it.
    assert graph.get(key("transform", "stg_issues")).parent_keys == {key("load_tracker", "issues"), key("sync_payments")}
    assert graph.get(key("transform", "stg_users")).parent_keys == {key("load_tracker", "users"), key("sync_payments")}
    assert graph.get(key("transform", "issues_per_user")).parent_keys == {key("transform", "stg_issues"), key("transform", "stg_users")}


def test_the_dbt_tests_and_the_great_expectations_check_are_checks_on_the_models(defs):
    graph = defs.resolve_asset_graph()
    checks = {check: graph.get_check_spec(check) for check in graph.asset_check_keys}
    # Every check sits on a dbt model: the dbt tests on the model each tests, the expectation suite on its table.
    assert {check.asset_key for check in checks} == set(MODELS)
    assert dg.AssetCheckKey(key("transform", "stg_issues"), "unique_stg_issues_id") in checks
    assert dg.AssetCheckKey(key("transform", "issues_per_user"), "not_null_issues_per_user_login") in checks
    great_expectations = dg.AssetCheckKey(key("transform", "stg_issues"), "check_issues")
    assert great_expectations in checks
    # Neither blocks the run: the dbt tests never do, and the block sets fail_pipeline_on_error false.
    assert not any(spec.blocking for spec in checks.values())


def test_the_emergency_refresh_runs_no_check_and_data_quality_only_runs_nothing_else(defs):
    graph = defs.resolve_asset_graph()
    jobs = {job.name: job.selection for job in defs.jobs}
    emergency = jobs["issue_tracker_stack__emergency_data_refresh"]
    assert emergency.resolve(graph) == {key("load_tracker", "issues"), key("load_tracker", "users"), *MODELS}
    assert emergency.resolve_checks(graph) == set()
    quality = jobs["issue_tracker_stack__data_quality_only"]
    assert quality.resolve(graph) == set()
    assert quality.resolve_checks(graph) == set(graph.asset_check_keys)


def test_the_steps_that_open_duckdb_run_one_at_a_time(defs):
    """dlt into DuckDB, the dbt models and tests on dbt-duckdb and the DuckDB expectation check carry the tag
    every job's executor limits to one at a time (two of them at once failed on DuckDB's file lock); Airbyte
    and DataHub, which never open the file, do not."""
    graph = defs.resolve_asset_graph()
    tagged = {node.key.path[-1] for node in graph.asset_nodes if duckdb_steps.DUCKDB_TAG in (node.assets_def.op.tags or {})}
    assert tagged == {"issues", "users", "stg_issues", "stg_users", "issues_per_user"}
    checks_tagged = {key.name for ad in graph.assets_defs for key in ad.check_keys if duckdb_steps.DUCKDB_TAG in (ad.op.tags or {})}
    assert checks_tagged == {key.name for key in graph.asset_check_keys}
    job = defs.resolve_job_def("issue_tracker_stack__daily_full_pipeline")
    assert job.executor_def is duckdb_steps.EXECUTOR
    # Across runs too: those steps are in one concurrency pool (the tag a step's pool falls back to), the others in none.
    pools = {node.name: node.definition.pool or (node.definition.tags or {}).get("dagster/concurrency_key") for node in job.graph.nodes}
    assert {pool for pool in pools.values()} == {duckdb_steps.POOL, None}
    assert all(pool == duckdb_steps.POOL for name, pool in pools.items() if "transform" in name or "load_tracker" in name)
