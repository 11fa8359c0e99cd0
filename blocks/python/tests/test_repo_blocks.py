"""Repository block types in pipelines: pipeline.json's repo_block_types, shards holding their packages, secrets."""

import copy
import os
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

import pipelines
from constellation_blocks import check_shard
from constellation_blocks.pipeline import Block, Pipeline, PipelineFileError
from constellation_blocks.repo_blocks import secret
from repo_packages import greeting, write_package
from shards import write_shard

LIBRARY = Path(__file__).resolve().parents[1]
PACKAGE_1 = "constellation_repo_etl_blocks_aaaaaaaaaaa1"
PACKAGE_2 = "constellation_repo_etl_blocks_bbbbbbbbbbb2"


def greeting_pipeline(slug: str, version: int, package: str, duckdb_path: Path) -> dict:
    """A repository block (``etl_blocks__greeting_rows@<version>``) feeding a built-in duckdb_load."""
    block_type = f"etl_blocks__greeting_rows@{version}"
    data = pipelines.pipeline(slug, {
        "greet": (block_type, {"names": ["Ada", "Grace"], "greeting_env": "GREETING_TEXT"}),
        "load": ("duckdb_load@1", {"database_path": str(duckdb_path), "table": "main.greetings", "mode": "replace"}, {"rows": ["greet"]}),
    })
    data["repo_block_types"] = {
        block_type: {"callable": f"{package}.greeting:make_rows", "secrets": [{"name": "GREETING", "config_field": "greeting_env"}]}
    }
    return data


def texts(path: Path) -> list[str]:
    with duckdb.connect(str(path), read_only=True) as con:
        return [row[0] for row in con.execute("SELECT text FROM main.greetings ORDER BY id").fetchall()]


@pytest.fixture
def shard(tmp_path):
    """A shard whose two pipelines pin two commits (versions) of one repository block type, packages at its root."""
    project = write_shard(tmp_path, "local_shard_1", {
        "greet_v1": greeting_pipeline("greet_v1", 1, PACKAGE_1, tmp_path / "v1.duckdb"),
        "greet_v2": greeting_pipeline("greet_v2", 2, PACKAGE_2, tmp_path / "v2.duckdb"),
    })
    write_package(project, PACKAGE_1[-12:], {"greeting.py": greeting("from v1 to")})
    write_package(project, PACKAGE_2[-12:], {"greeting.py": greeting("from v2 to")})
    return project


def test_a_shard_loads_each_pipeline_with_its_own_commit_and_the_rows_reach_duckdb(tmp_path, shard, instance, monkeypatch):
    answer = check_shard.check(shard)
    assert answer["ok"] is True, answer
    assert answer["definitions"]["assets"] == [
        ["local", slug, block] for slug in ("greet_v1", "greet_v2") for block in ("greet", "load")
    ]

    monkeypatch.setenv("GREETING_TEXT", "Hello")
    repository = check_shard.load(shard)
    for slug in ("greet_v1", "greet_v2"):
        result = repository.get_job(f"{slug}__all_blocks").execute_in_process(instance=instance)
        assert result.success
    assert texts(tmp_path / "v1.duckdb") == ["Hello from v1 to Ada", "Hello from v1 to Grace"]
    assert texts(tmp_path / "v2.duckdb") == ["Hello from v2 to Ada", "Hello from v2 to Grace"]
    [spec] = [s for a in repository.assets_defs_by_key.values() for s in a.specs if s.key.path == ["local", "greet_v1", "greet"]]
    assert spec.kinds == {"python"}


def test_a_job_runs_from_the_command_line_as_a_run_worker_loads_the_shard(tmp_path, shard):
    """``dagster job execute -m <shard>.definitions -d <shard>``: each step a new process importing the package from the shard's root."""
    home = tmp_path / "dagster_home"
    home.mkdir()
    (home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    env = {**os.environ, "PYTHONPATH": str(LIBRARY), "DAGSTER_HOME": str(home), "GREETING_TEXT": "Hi"}
    result = subprocess.run(
        [str(Path(sys.executable).with_name("dagster")), "job", "execute", "-m", "local_shard_1.definitions", "-d", str(shard),
         "-j", "greet_v2__all_blocks"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert texts(tmp_path / "v2.duckdb") == ["Hi from v2 to Ada", "Hi from v2 to Grace"]


def test_a_missing_secret_fails_the_step_naming_the_variable_and_the_block(tmp_path, instance, monkeypatch):
    monkeypatch.delenv("GREETING_TEXT", raising=False)
    monkeypatch.syspath_prepend(str(tmp_path))
    write_package(tmp_path, "cccccccccccc", {"greeting.py": greeting()})
    result = pipelines.run(greeting_pipeline("greet", 1, "constellation_repo_etl_blocks_cccccccccccc", tmp_path / "g.duckdb"), instance)
    assert not result.success
    assert (
        'block "greet" (etl_blocks__greeting_rows@1) needs the environment variable GREETING_TEXT (named by config.greeting_env) '
        "for its secret GREETING; set it in the environment that runs the pipeline." in pipelines.step_error(result)
    )


def test_a_served_check_does_not_keep_a_package_from_an_earlier_shard(tmp_path, shard):
    assert check_shard.check(shard)["ok"] is True
    # Another shard whose pipeline names the same package but lacks its folder.
    other = write_shard(tmp_path / "other", "local_shard_2", {"greet": greeting_pipeline("greet", 1, PACKAGE_1, tmp_path / "x.duckdb")})
    answer = check_shard.check(other)
    assert answer["ok"] is False and f"No module named '{PACKAGE_1}'" in answer["error"]


@pytest.mark.parametrize(
    "path",
    [
        "os:system",
        "constellation_blocks.duckdb:load_table",
        "constellation_repo_etl_blocks_3F2A9C1D0E4B.greeting:make_rows",  # upper-case hex
        "constellation_repo_etl_blocks_3f2a9c1d0e4.greeting:make_rows",  # 11 hex digits
        "constellation_repo_etl_blocks_3f2a9c1d0e4b.greeting:make_rows()",
        "constellation_repo_etl_blocks_3f2a9c1d0e4b.greeting.make_rows",
        "constellation_repo_etl_blocks_3f2a9c1d0e4b/../os:system",
    ],
)
def test_a_callable_outside_a_repository_package_is_refused_naming_the_key(tmp_path, path):
    data = greeting_pipeline("greet", 1, "constellation_repo_etl_blocks_3f2a9c1d0e4b", tmp_path / "g.duckdb")
    data["repo_block_types"]["etl_blocks__greeting_rows@1"]["callable"] = path
    with pytest.raises(PipelineFileError) as error:
        Pipeline(data)
    assert str(error.value) == (
        "pipeline.json: repo_block_types.etl_blocks__greeting_rows@1.callable must name a function of a code repository's "
        f'package, "constellation_repo_<namespace>_<12 hex digits>.<module>:<function>", got {path!r}.'
    )


def test_repo_block_types_cannot_replace_a_built_in_and_must_name_every_repository_type_used(tmp_path):
    data = greeting_pipeline("greet", 1, "constellation_repo_etl_blocks_3f2a9c1d0e4b", tmp_path / "g.duckdb")
    shadowing = copy.deepcopy(data)
    shadowing["repo_block_types"]["duckdb_load@1"] = {"callable": "constellation_repo_etl_blocks_3f2a9c1d0e4b.greeting:make_rows"}
    with pytest.raises(PipelineFileError, match=r"repo_block_types.duckdb_load@1 is a built-in block type; a code repository's type cannot replace it"):
        Pipeline(shadowing)
    del data["repo_block_types"]
    with pytest.raises(PipelineFileError, match=r'blocks.greet.type is "etl_blocks__greeting_rows@1", a block type .* repo_block_types does not name'):
        Pipeline(data)


def test_a_repository_block_has_no_resource_no_defaults_and_its_manifest_secrets(tmp_path):
    pipeline = Pipeline(greeting_pipeline("greet", 1, "constellation_repo_etl_blocks_3f2a9c1d0e4b", tmp_path / "g.duckdb"))
    block = pipeline.block("greet")
    assert block.config == {"names": ["Ada", "Grace"], "greeting_env": "GREETING_TEXT"}
    assert block.secrets == (("GREETING", "greeting_env"),)
    assert pipeline.resource_key("greet") is None and pipeline.block("load").secrets == ()


def test_secret_reads_the_variable_the_config_names_else_the_secret_s_own_name(monkeypatch):
    def block(config: dict) -> Block:
        return Block("greet", "etl_blocks__greeting_rows@1", "greet", None, config, [], secrets=(("API_TOKEN", "token_env"), ("PLAIN", None)))

    monkeypatch.setenv("MY_TOKEN", "t-1")
    monkeypatch.setenv("API_TOKEN", "t-default")
    monkeypatch.setenv("PLAIN", "p")
    assert secret(block({"token_env": "MY_TOKEN"}), "API_TOKEN") == "t-1"
    assert secret(block({}), "API_TOKEN") == "t-default"
    assert secret(block({}), "PLAIN") == "p"
    with pytest.raises(LookupError) as error:
        secret(block({}), "OTHER")
    assert str(error.value) == (
        'block "greet" (etl_blocks__greeting_rows@1) has no secret "OTHER" (its manifest declares: API_TOKEN, PLAIN); '
        "add it to the manifest's secrets."
    )
    monkeypatch.delenv("API_TOKEN")
    with pytest.raises(LookupError, match=r"needs the environment variable API_TOKEN for its secret API_TOKEN; set it"):
        secret(block({}), "API_TOKEN")
