"""check_shard: loads shard projects as Dagster's python_module workspace entry does, one-shot and served."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from constellation_blocks import check_shard
from shards import pipeline, write_pipeline, write_shard

LIBRARY = Path(__file__).parents[1]


def both(tmp_path) -> Path:
    """A shard of two pipelines built from the same block ids."""
    return write_shard(
        tmp_path,
        "local_shard_1",
        {
            "sales_sync": pipeline("sales_sync", duckdb_path=str(tmp_path / "a.duckdb")),
            "crm_sync": pipeline("crm_sync", duckdb_path=str(tmp_path / "b.duckdb"), cron=None),
        },
    )


EXPECTED = {
    "assets": [
        ["local", "crm_sync", "extract_customers"],
        ["local", "crm_sync", "load_customers"],
        ["local", "sales_sync", "extract_customers"],
        ["local", "sales_sync", "load_customers"],
    ],
    "asset_checks": [],
    "jobs": ["crm_sync__all_blocks", "sales_sync__all_blocks"],
    "schedules": ["sales_sync__every_6_hours"],
    "sensors": [],
}


def test_two_pipelines_with_the_same_block_ids_load_with_distinct_keys(tmp_path):
    assert check_shard.check(both(tmp_path)) == {"ok": True, "definitions": EXPECTED}


def test_a_pipeline_json_error_is_dagster_s_error_with_its_cause(tmp_path):
    project = both(tmp_path)
    broken = project / "local_shard_1" / "defs" / "crm_sync" / "pipeline.json"
    data = json.loads(broken.read_text())
    data["blocks"]["load_customers"]["type"] = "snowflake_load@1"
    broken.write_text(json.dumps(data))
    answer = check_shard.check(project)
    assert answer["ok"] is False
    error = answer["error"]
    # Dagster's own component-tree error (no "Error occurred during the loading" wrapper), then ours.
    assert error.startswith("ComponentTreeException: Error while building definitions for crm_sync")
    assert "Error occurred during the loading of Dagster definitions" not in error
    assert f'Caused by PipelineFileError: {broken}: blocks.load_customers.type is "snowflake_load@1"' in error
    # The checker is left clean: the fixed shard loads in the same process.
    data["blocks"]["load_customers"]["type"] = "duckdb_load@1"
    broken.write_text(json.dumps(data))
    assert check_shard.check(project)["ok"] is True


def test_an_unknown_component_type_and_a_duplicate_asset_key_are_refused(tmp_path):
    project = both(tmp_path)
    defs_yaml = project / "local_shard_1" / "defs" / "crm_sync" / "defs.yaml"
    defs_yaml.write_text(defs_yaml.read_text().replace("PipelineComponent", "PipelineThing"))
    assert check_shard.check(project) == {
        "ok": False,
        "error": "DagsterUnresolvableSymbolError: Module `constellation_blocks` has no attribute `PipelineThing`.",
    }

    # A second copy of sales_sync under another folder (own resource key, same namespace).
    copy = pipeline("sales_sync", duckdb_path=str(tmp_path / "c.duckdb"))
    for block in copy["blocks"].values():
        block["resource_key"] = block["resource_key"] and "copy__postgres"
    copy["jobs"]["all_blocks"]["name"] = "copy__all_blocks"
    copy["schedules"] = {}
    write_pipeline(project, "crm_sync", copy)
    defs_yaml.write_text(defs_yaml.read_text().replace("PipelineThing", "PipelineComponent"))
    answer = check_shard.check(project)
    assert answer["ok"] is False
    assert "DagsterInvalidDefinitionError: Duplicate asset key: AssetKey(['local', 'sales_sync', 'extract_customers'])" in answer["error"]


def test_a_project_without_a_root_module_is_an_answer_not_a_crash(tmp_path):
    answer = check_shard.check(tmp_path)
    assert answer == {"ok": False, "error": f"{tmp_path}/pyproject.toml: not found; a shard project has a pyproject.toml"}
    (tmp_path / "pyproject.toml").write_text("[tool.dg.project]\n")
    assert "tool.dg.project.root_module must name the project's package, got None" in check_shard.check(tmp_path)["error"]


def run_checker(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "constellation_blocks.check_shard", *args],
        input=stdin, capture_output=True, text=True, timeout=120, env=checker_env(),
    )


def checker_env() -> dict:
    # Without PYTHONDONTWRITEBYTECODE, as deploy may run it: the checker must not need it.
    env = {key: value for key, value in os.environ.items() if key != "PYTHONDONTWRITEBYTECODE"}
    return {**env, "PYTHONPATH": str(LIBRARY)}


def test_one_shot_prints_one_json_line_and_exits_0_either_way(tmp_path):
    project = both(tmp_path)
    files = sorted(project.rglob("*"))
    result = run_checker(str(project))
    assert result.returncode == 0, result.stderr
    assert result.stdout.count("\n") == 1 and json.loads(result.stdout) == {"ok": True, "definitions": EXPECTED}
    assert sorted(project.rglob("*")) == files  # the check wrote nothing (no __pycache__) into the project

    (project / "local_shard_1" / "defs" / "crm_sync" / "pipeline.json").write_text("{")
    result = run_checker(str(project))
    assert result.returncode == 0, result.stderr
    answer = json.loads(result.stdout)
    assert answer["ok"] is False and "not valid JSON" in answer["error"]

    assert run_checker().returncode == 2  # neither a project dir nor --serve: a usage error


def test_serve_answers_each_line_in_one_process_and_reads_changed_files(tmp_path):
    project = write_shard(tmp_path, "local_shard_1", {"sales_sync": pipeline("sales_sync", duckdb_path=str(tmp_path / "a.duckdb"))})
    checker = subprocess.Popen(
        [sys.executable, "-m", "constellation_blocks.check_shard", "--serve"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=checker_env(),
    )
    try:
        def ask(path: Path) -> dict:
            checker.stdin.write(f"{path}\n")
            checker.stdin.flush()
            return json.loads(checker.stdout.readline())

        first = ask(project)
        assert first["ok"] is True and first["definitions"]["jobs"] == ["sales_sync__all_blocks"]

        # Change a name in one pipeline.json and add a pipeline, then ask again.
        data = pipeline("sales_sync", duckdb_path=str(tmp_path / "a.duckdb"))
        data["jobs"]["all_blocks"]["name"] = "sales_sync__everything"
        write_pipeline(project, "sales_sync", data)
        write_pipeline(project, "crm_sync", pipeline("crm_sync", duckdb_path=str(tmp_path / "b.duckdb")))
        second = ask(project)
        assert second["ok"] is True
        assert second["definitions"]["jobs"] == ["crm_sync__all_blocks", "sales_sync__everything"]
        assert len(second["definitions"]["assets"]) == 4
        assert ask(tmp_path / "nowhere")["ok"] is False
        assert checker.poll() is None  # still serving
    finally:
        checker.stdin.close()
        assert checker.wait(timeout=30) == 0


def test_dagster_s_own_validate_agrees(tmp_path):
    project = both(tmp_path)
    home = tmp_path / "dagster_home"
    home.mkdir()
    (home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    dagster = Path(sys.executable).with_name("dagster")
    result = subprocess.run(
        [str(dagster), "definitions", "validate", "-m", "local_shard_1.definitions"],
        cwd=project, env={**checker_env(), "DAGSTER_HOME": str(home)}, capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
