"""The dbt tests' fixture project, parsed once per session, and format-2 pipelines around it.

A pipeline here is what the compiler and the deploy write: pipeline.json, and beside it
``dbt/<block_id>/manifest.json`` for each dbt block. The fixture project (fixtures/dbt_project) is
copied once per session, since dbt writes its run artifacts into the project folder, and parsed
once per target as the deploy parses it: parsing takes seconds, and every test reuses the manifest.
"""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from dlt_pipelines import dlt_pipeline, rest_api_config

FIXTURE = Path(__file__).parent / "fixtures" / "dbt_project"
TELEMETRY_OFF = {"DBT_SEND_ANONYMOUS_USAGE_STATS": "false", "DAGSTER_DISABLE_TELEMETRY": "1", "RUNTIME__DLTHUB_TELEMETRY": "false"}


def parse(project_dir: Path, target: str, out: Path) -> Path:
    """The project's manifest for ``target``, parsed as the deploy parses it (constellation_blocks.dbt_parse)."""
    manifest = out / "manifest.json"
    command = [sys.executable, "-m", "constellation_blocks.dbt_parse", str(project_dir), str(manifest), "--target", target]
    done = subprocess.run(command, capture_output=True, text=True, env={**os.environ, **TELEMETRY_OFF}, timeout=300, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    return manifest


@pytest.fixture(scope="session")
def dbt_project(tmp_path_factory) -> Path:
    """A copy of the fixture dbt project, for the session."""
    folder = tmp_path_factory.mktemp("dbt") / "tracker"
    shutil.copytree(FIXTURE, folder)
    return folder


@pytest.fixture(scope="session")
def dbt_manifest(dbt_project, tmp_path_factory):
    """The fixture project's manifest for a target ("duckdb" or "postgres"), parsed on first use."""
    parsed: dict[str, Path] = {}

    def manifest(target: str = "duckdb") -> Path:
        if target not in parsed:
            parsed[target] = parse(dbt_project, target, tmp_path_factory.mktemp(f"manifest_{target}"))
        return parsed[target]

    return manifest


def write_pipeline(folder: Path, data: dict, manifest: Path) -> Path:
    """pipeline.json in ``folder`` with ``manifest`` beside it for every dbt block, as a deploy leaves them."""
    folder.mkdir(parents=True, exist_ok=True)
    for block_id, block in data["blocks"].items():
        if block["type"].startswith("dbt_"):
            target = folder / "dbt" / block_id / "manifest.json"
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(manifest, target)
    path = folder / "pipeline.json"
    path.write_text(json.dumps(data, indent=2))
    return path


def _block(block_type: str, config: dict, inputs: list[dict], downstream: list[str], name: str) -> dict:
    return {"type": block_type, "name": name, "description": None, "config": config, "retry_policy": None,
            "downstream": downstream, "inputs": inputs, "resource_key": None}


def dbt_pipeline(slug: str, project_dir: Path, *, ingest: dict | None, run: dict | None = None, test: dict | None = None,
                 org: str = "local") -> dict:
    """ingest (dlt_ingestion@1) → transform (dbt_run@1) → test (dbt_test@1), each of ingest and test when its config is given."""
    blocks = {}
    if ingest is not None:
        blocks["ingest"] = _block("dlt_ingestion@1", ingest, [], ["transform"], "Load the tracker")
    sources = [{"port": "sources", "upstream": ["ingest"], "multiple": True}] if ingest is not None else []
    run_config = {"project_dir": str(project_dir), "profiles_dir": str(project_dir), "target": "duckdb", "command": "run", **(run or {})}
    blocks["transform"] = _block("dbt_run@1", run_config, sources, ["test"] if test is not None else [], "Transform with dbt")
    if test is not None:
        test_config = {"project_dir": str(project_dir), "profiles_dir": str(project_dir), "target": run_config["target"], **test}
        blocks["test"] = _block("dbt_test@1", test_config, [{"port": "models", "upstream": ["transform"], "multiple": False}], [], "Test with dbt")
    # The rest of pipeline.json as the dlt tests write it; its one job runs every block.
    data = dlt_pipeline(slug, ingest or {}, org=org)
    data["blocks"] = blocks
    data["jobs"]["all_blocks"]["blocks"] = list(blocks)
    return data


def tracker_ingest(base_url: str, **overrides) -> dict:
    """dlt rest_api reading /issues and /users of a PagedJsonServer into dataset tracker_raw (the project's source), replaced each run."""
    return rest_api_config(base_url, **{"write_disposition": "replace", **overrides})
