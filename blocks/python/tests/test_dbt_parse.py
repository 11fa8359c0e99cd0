"""constellation_blocks.dbt_parse: the deploy's parse of a dbt project, its trimmed manifest and its errors."""

import json
import shutil
import subprocess
import sys

from dbt_pipelines import FIXTURE, dbt_manifest, dbt_project  # noqa: F401 (fixtures)


def run(*args: str) -> tuple[int, dict]:
    done = subprocess.run([sys.executable, "-m", "constellation_blocks.dbt_parse", *args], capture_output=True, text=True, timeout=300, check=False)
    return done.returncode, json.loads(done.stdout.strip().splitlines()[-1])


def test_the_manifest_keeps_nodes_sources_and_maps_and_drops_macro_bodies(dbt_manifest):
    manifest = json.loads(dbt_manifest("duckdb").read_text())
    assert manifest["metadata"]["adapter_type"] == "duckdb"
    assert {"model.tracker.stg_issues", "model.tracker.issues_per_user"} <= set(manifest["nodes"])
    assert set(manifest["sources"]) == {"source.tracker.tracker_raw.issues", "source.tracker.tracker_raw.users"}
    assert manifest["child_map"]["model.tracker.stg_issues"]
    assert manifest["macros"] == {} and manifest["docs"] == {}
    assert dbt_manifest("postgres").read_bytes() != dbt_manifest("duckdb").read_bytes()


def test_a_project_dbt_cannot_parse_answers_dbt_s_message_and_writes_nothing(tmp_path):
    project = tmp_path / "broken"
    shutil.copytree(FIXTURE, project)
    (project / "models" / "orphan.sql").write_text("select * from {{ ref('no_such_model') }}\n")
    out = tmp_path / "manifest.json"
    code, answer = run(str(project), str(out))
    assert code == 1 and not answer["ok"]
    assert "depends on a node named 'no_such_model' which was not found" in answer["error"]
    assert not out.exists()


def test_a_folder_without_dbt_project_yml_is_refused_before_dbt_runs(tmp_path):
    code, answer = run(str(tmp_path), str(tmp_path / "m.json"))
    assert code == 1 and answer == {"ok": False, "error": f"{tmp_path} holds no dbt_project.yml"}


def test_the_project_folder_is_only_read(tmp_path):
    project = tmp_path / "tracker"
    shutil.copytree(FIXTURE, project)
    before = sorted(p.relative_to(project) for p in project.rglob("*"))
    code, answer = run(str(project), str(tmp_path / "m.json"), "--vars", '{"start": "2024-01-01"}')
    assert code == 0 and answer == {"ok": True}
    assert sorted(p.relative_to(project) for p in project.rglob("*")) == before
