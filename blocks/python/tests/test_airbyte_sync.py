"""airbyte_sync@1: dagster-airbyte's AirbyteResource against a local stand-in of Airbyte's Configuration API."""

from urllib.parse import urlsplit

import dagster as dg
import pytest

from constellation_blocks.component import build_blocks, pipeline_definitions
from constellation_blocks.pipeline import Pipeline, PipelineFileError
from pipelines import pipeline
from stand_ins import AirbyteApi

CONNECTION = "0b8b7c0e-5a1f-4c2d-9e3a-1f2b3c4d5e6f"
KEY = dg.AssetKey(["local", "gh", "sync"])


def airbyte(statuses: list[str]) -> AirbyteApi:
    return AirbyteApi(CONNECTION, ["issues", "pull_requests"], statuses)


@pytest.fixture
def token(monkeypatch):
    monkeypatch.setenv("GH_AIRBYTE_TOKEN", "ab-token")


def gh(api_url: str, **overrides) -> dict:
    where = urlsplit(api_url)
    config = {
        "connection_id": CONNECTION, "host": where.hostname, "port": where.port, "use_https": False,
        "poll_interval_seconds": 1, "timeout_seconds": 60, "api_token_secret": "GH_AIRBYTE_TOKEN", **overrides,
    }
    return pipeline("gh", {"sync": ("airbyte_sync@1", config)})


def run(data: dict, instance) -> dg.ExecuteInProcessResult:
    return pipeline_definitions(Pipeline(data)).resolve_job_def("gh__all_blocks").execute_in_process(instance=instance, raise_on_error=False)


def sync(statuses: list[str], instance, **overrides) -> tuple[dg.ExecuteInProcessResult, AirbyteApi]:
    """Runs the block against a stand-in whose job goes through ``statuses``; the stand-in keeps its requests."""
    api = airbyte(statuses)
    try:
        return run(gh(api.url, **overrides), instance), api
    finally:
        api.stop()


def failure_text(result: dg.ExecuteInProcessResult) -> str:
    [failure] = [e for e in result.all_events if e.is_step_failure]
    return failure.step_failure_data.error.to_string()


def test_triggers_the_sync_and_waits_for_its_job_to_succeed(token, instance):
    result, api = sync(["running", "succeeded"], instance)
    assert result.success
    assert api.calls() == ["connections/get", "connections/sync", "jobs/list", "jobs/list"]
    assert api.requests[1]["body"] == {"connectionId": CONNECTION}
    assert {r["headers"].get("Authorization") for r in api.requests} == {"Bearer ab-token"}
    [materialization] = result.get_asset_materialization_events()
    metadata = materialization.materialization.metadata
    assert materialization.asset_key == KEY
    assert metadata["airbyte/job_id"].value == 1 and metadata["airbyte/job_status"].value == "succeeded"
    assert metadata["airbyte/streams"].value == ["issues", "pull_requests"]


def test_a_failed_job_fails_the_run(token, instance):
    result, api = sync(["running", "failed"], instance)
    assert not result.success and "Encountered unexpected state `failed` for job_id 1" in failure_text(result)
    assert result.get_asset_materialization_events() == []


def test_a_job_still_running_at_the_timeout_is_cancelled_and_fails_the_run(token, instance):
    result, api = sync(["running"], instance, timeout_seconds=1)
    assert not result.success and "Timeout: Airbyte job 1 is not ready after the timeout 1 seconds" in failure_text(result)
    assert api.calls()[-1] == "jobs/cancel" and api.requests[-1]["body"] == {"id": 1}


def test_an_unknown_connection_fails_the_run(token, instance):
    result, api = sync(["succeeded"], instance, connection_id="00000000-0000-4000-8000-000000000000")
    assert not result.success and "Max retries (3) exceeded with url" in failure_text(result)
    assert "connections/sync" not in api.calls()


def test_one_asset_under_the_block_s_key_loaded_without_asking_airbyte(token):
    api = airbyte(["succeeded"])
    try:
        built = build_blocks(Pipeline(gh(api.url)), {})["sync"]
        assert built.keys == (KEY,)
        [asset] = built.assets
        assert asset.specs_by_key[KEY].kinds == {"airbyte"}
        assert set(asset.resource_defs) == {"gh__sync_airbyte"}
        assert api.requests == []
    finally:
        api.stop()


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda c: c.pop("connection_id"), r"blocks.sync.config.connection_id is required"),
        (lambda c: c.update(timeout_seconds=0), r"blocks.sync.config.timeout_seconds must be a whole number of at least 1"),
        (lambda c: c.update(api_token_secret="token"), r"blocks.sync.config.api_token_secret must name an environment variable"),
    ],
)
def test_a_config_the_block_cannot_run_fails_the_load_naming_the_key(change, message):
    data = gh("http://127.0.0.1:9")
    change(data["blocks"]["sync"]["config"])
    with pytest.raises(PipelineFileError, match=message):
        pipeline_definitions(Pipeline(data))
