"""Shard projects written exactly as deploy writes them (BRIEF-12's template), and format-2 pipelines.

``write_shard(tmp_path, "local_shard_1", {"sales": pipeline(...)})`` makes
tmp_path/local_shard_1 with pyproject.toml, the package with its definitions.py and one
defs/<slug>/ folder (defs.yaml + pipeline.json) per pipeline.
"""

import json
import uuid
from pathlib import Path

PYPROJECT = """[project]
name = "{shard}"
version = "0.1.0"

[tool.dg]
directory_type = "project"

[tool.dg.project]
root_module = "{shard}"
"""

DEFINITIONS = """from pathlib import Path

import dagster as dg

import {shard}.defs  # noqa: F401

defs = dg.load_from_defs_folder(path_within_project=Path(__file__).parent)
"""

DEFS_YAML = """# Pipeline {id}, version {version}: written by Constellation Agent. Settings are in pipeline.json.
type: constellation_blocks.PipelineComponent
attributes:
  pipeline_file: pipeline.json
"""


def write_shard(parent: Path, shard: str, pipelines: dict[str, dict]) -> Path:
    """A shard project holding ``pipelines`` (slug → pipeline.json data); returns its folder."""
    project = parent / shard
    package = project / shard
    (package / "defs").mkdir(parents=True)
    (project / "pyproject.toml").write_text(PYPROJECT.format(shard=shard))
    (package / "__init__.py").write_text("")
    (package / "definitions.py").write_text(DEFINITIONS.format(shard=shard))
    (package / "defs" / "__init__.py").write_text("")
    for slug, data in pipelines.items():
        write_pipeline(project, slug, data)
    return project


def write_pipeline(project: Path, slug: str, data: dict) -> Path:
    """Writes (or replaces) the pipeline folder ``slug`` of the shard at ``project``."""
    folder = project / project.name / "defs" / slug
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "defs.yaml").write_text(DEFS_YAML.format(id=data["pipeline"]["id"], version=data["pipeline"]["version"]))
    (folder / "pipeline.json").write_text(json.dumps(data, indent=2, sort_keys=True))
    return folder


def pipeline(
    slug: str,
    *,
    duckdb_path: str,
    source_secret: str = "SOURCE_URL",
    pipeline_id: str | None = None,
    org: str = "local",
    table: str = "public.customers",
    cron: str | None = "0 */6 * * *",
) -> dict:
    """A format-2 pipeline as the compiler writes it: extract_customers (Postgres) → load_customers (DuckDB, merge)."""
    pipeline_id = pipeline_id or str(uuid.uuid4())
    schedules = {}
    if cron:
        schedules["every_6_hours"] = {
            "name": f"{slug}__every_6_hours", "job": "all_blocks", "cron": cron, "timezone": "UTC", "description": None
        }
    return {
        "format": 2,
        "pipeline": {"id": pipeline_id, "name": f"Pipeline {slug}", "description": None, "version": 1, "slug": slug, "org": org},
        "namespace": {"asset_key_prefix": [org, slug], "group": slug},
        "blocks": {
            "extract_customers": {
                "type": "postgres_incremental_extract@1",
                "name": "Extract customers",
                "description": None,
                "config": {
                    "table": table, "connection_secret": source_secret, "created_at_column": "created_at",
                    "updated_at_column": "updated_at", "primary_key": ["id"], "batch_size": 10000,
                },
                "retry_policy": {"max_retries": 2, "delay_seconds": 1, "backoff": "exponential", "jitter": None},
                "downstream": ["load_customers"],
                "inputs": [],
                "resource_key": f"{slug}__extract_customers_postgres",
            },
            "load_customers": {
                "type": "duckdb_load@1",
                "name": None,
                "description": "Customers in DuckDB.",
                "config": {"database_path": duckdb_path, "table": "main.customers", "mode": "merge", "primary_key": ["id"]},
                "retry_policy": None,
                "downstream": [],
                "inputs": [{"port": "rows", "upstream": ["extract_customers"], "multiple": False}],
                "resource_key": None,
            },
        },
        "jobs": {"all_blocks": {"name": f"{slug}__all_blocks", "blocks": ["extract_customers", "load_customers"], "description": None}},
        "schedules": schedules,
        "sensors": {},
        "partitions": None,
        "run_tags": {"constellation/pipeline_id": pipeline_id, "constellation/pipeline_version": "1"},
    }
