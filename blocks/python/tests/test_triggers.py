"""Sensors built from pipeline.json: what Dagster gets, and what each tick asks for against real files, a real instance and a GitHub stand-in."""

import json
import os

import dagster as dg
import pytest

from constellation_blocks import block_types
from constellation_blocks.building import BuiltBlock
from constellation_blocks.component import pipeline_definitions
from constellation_blocks.pipeline import Pipeline, PipelineFileError
from constellation_blocks.triggers import TriggerContext, data_quality_alert_sensor
from stand_ins import GitHubReleasesServer
from shards import pipeline as pipeline_data

MANIFESTS = __import__("pathlib").Path(__file__).resolve().parents[2] / "manifests"


def with_sensor(data: dict, sensor_id: str, sensor_type: str, config: dict, job: str = "all_blocks") -> dict:
    slug = data["pipeline"]["slug"]
    data["sensors"][sensor_id] = {
        "name": f"{slug}__{sensor_id}", "type": sensor_type, "job": job, "config": config, "description": None,
    }
    return data


def load(tmp_path, data) -> dg.Definitions:
    path = tmp_path / "pipeline.json"
    path.write_text(json.dumps(data))
    return pipeline_definitions(Pipeline.load(path))


def tick(sensor: dg.SensorDefinition, instance, cursor=None):
    """One evaluation as the daemon makes it: the sensor's cursor in, run requests and the new cursor out."""
    with dg.build_sensor_context(instance=instance, cursor=cursor) as context:
        return sensor.evaluate_tick(context)


@pytest.fixture
def data(tmp_path):
    return pipeline_data("sales_sync", duckdb_path=str(tmp_path / "w.duckdb"), pipeline_id="p-1")


def test_sensor_defaults_match_the_manifests():
    for sensor_type, entry in block_types.SENSOR_TYPES.items():
        schema = json.loads((MANIFESTS / f"{sensor_type.split('@')[0]}.json").read_text())["config_schema"]
        defaults = {key: prop["default"] for key, prop in schema["properties"].items() if "default" in prop}
        assert entry["defaults"] == defaults, sensor_type


def test_sensors_run_their_job_and_are_running_once_loaded(tmp_path, data):
    with_sensor(data, "on_file", "file_arrival_sensor@1", {"local_directory": str(tmp_path), "minimum_interval_seconds": 45})
    defs = load(tmp_path, data)
    sensor = defs.resolve_sensor_def("sales_sync__on_file")
    assert sensor.job_name == "sales_sync__all_blocks"
    assert sensor.default_status == dg.DefaultSensorStatus.RUNNING
    assert sensor.minimum_interval_seconds == 45
    assert sensor.description == f"Runs sales_sync__all_blocks for each new file matching * in {tmp_path}."


def test_a_dropped_file_asks_for_one_run_and_never_again(tmp_path, data, instance):
    inbox = tmp_path / "inbox"
    (inbox / "orders").mkdir(parents=True)
    with_sensor(data, "on_file", "file_arrival_sensor@1", {"local_directory": str(inbox), "prefix": "orders", "pattern": "*.csv"})
    sensor = load(tmp_path, data).resolve_sensor_def("sales_sync__on_file")

    first = tick(sensor, instance)
    assert first.run_requests == [] and first.cursor is not None
    (inbox / "orders" / "a.csv").write_text("id\n1\n")
    (inbox / "orders" / "ignored.txt").write_text("not a csv")
    second = tick(sensor, instance, first.cursor)
    [request] = second.run_requests
    assert request.tags["constellation/file"] == str(inbox / "orders" / "a.csv")
    assert request.tags["constellation/sensor"] == "on_file"
    assert tick(sensor, instance, second.cursor).run_requests == []

    # A second file with the very same time is still new; the first is not, again.
    b = inbox / "orders" / "b.csv"
    b.write_text("id\n2\n")
    stat = (inbox / "orders" / "a.csv").stat()
    os.utime(b, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    third = tick(sensor, instance, second.cursor)
    assert [r.tags["constellation/file"] for r in third.run_requests] == [str(b)]
    assert tick(sensor, instance, third.cursor).run_requests == []


def test_files_present_at_the_first_tick_are_waiting_work(tmp_path, data, instance):
    (tmp_path / "x.csv").write_text("1")
    with_sensor(data, "on_file", "file_arrival_sensor@1", {"local_directory": str(tmp_path), "pattern": "*.csv"})
    sensor = load(tmp_path, data).resolve_sensor_def("sales_sync__on_file")
    assert len(tick(sensor, instance).run_requests) == 1


def test_a_missing_directory_skips_with_the_reason(tmp_path, data, instance):
    with_sensor(data, "on_file", "file_arrival_sensor@1", {"local_directory": str(tmp_path / "nope")})
    result = tick(load(tmp_path, data).resolve_sensor_def("sales_sync__on_file"), instance)
    assert result.run_requests == [] and "does not exist (yet)" in result.skip_message


@pytest.fixture
def github():
    server = GitHubReleasesServer("acme/app", [{"id": 10, "tag_name": "v1.0"}])
    yield server
    server.stop()


def test_a_new_release_asks_for_one_run_with_the_token_read_at_tick_time(tmp_path, data, instance, github, monkeypatch):
    with_sensor(data, "on_release", "github_release_sensor@1", {"repository": "acme/app", "api_url": github.url, "token_secret": "ACME_GH_TOKEN"})
    sensor = load(tmp_path, data).resolve_sensor_def("sales_sync__on_release")
    monkeypatch.setenv("ACME_GH_TOKEN", "t-123")

    first = tick(sensor, instance)
    assert first.run_requests == [] and first.cursor == "10"  # existing releases are only recorded
    github.releases += [{"id": 11, "tag_name": "v1.1-rc1", "prerelease": True}, {"id": 12, "tag_name": "v1.1"}]
    second = tick(sensor, instance, first.cursor)
    assert [r.tags["constellation/github_release"] for r in second.run_requests] == ["v1.1"]
    assert second.run_requests[0].run_key == "release-12"
    assert tick(sensor, instance, second.cursor).run_requests == []
    assert github.calls[0] == ("/repos/acme/app/releases?per_page=100", "Bearer t-123")


def test_prereleases_fire_when_asked_and_no_token_means_no_header(tmp_path, data, instance, github, monkeypatch):
    monkeypatch.delenv("GITHUB_TOKEN", raising=False)
    with_sensor(data, "on_release", "github_release_sensor@1", {"repository": "acme/app", "api_url": github.url, "include_prereleases": True})
    sensor = load(tmp_path, data).resolve_sensor_def("sales_sync__on_release")
    first = tick(sensor, instance)
    github.releases.append({"id": 11, "tag_name": "v2.0-rc1", "prerelease": True})
    assert [r.run_key for r in tick(sensor, instance, first.cursor).run_requests] == ["release-11"]
    assert {auth for _, auth in github.calls} == {None}


def test_a_refused_call_says_what_to_fix(tmp_path, data, instance, github):
    github.status = 404
    with_sensor(data, "on_release", "github_release_sensor@1", {"repository": "acme/app", "api_url": github.url})
    sensor = load(tmp_path, data).resolve_sensor_def("sales_sync__on_release")
    with pytest.raises(Exception, match="GitHub answered 404 .*no such repository, or it is private and GITHUB_TOKEN is unset"):
        tick(sensor, instance)


@dg.asset(key=["local", "sales_sync", "orders"])
def orders():
    return 1


def _check(name: str, severity: dg.AssetCheckSeverity):
    @dg.asset_check(asset=orders, name=name)
    def check(context: dg.AssetCheckExecutionContext):
        return dg.AssetCheckResult(passed=context.run.tags.get("pass") == "yes", severity=severity)

    return check


ROWS_POSITIVE = _check("rows_positive", dg.AssetCheckSeverity.ERROR)
FRESH = _check("fresh", dg.AssetCheckSeverity.WARN)


def alert_sensor(tmp_path, data, config: dict) -> dg.SensorDefinition:
    with_sensor(data, "on_alert", "data_quality_alert_sensor@1", config)
    path = tmp_path / "pipeline.json"
    path.write_text(json.dumps(data))
    pipeline = Pipeline.load(path)
    # The quality block's checks, as its builder would give them (the library's quality blocks come with their own issues).
    built = {"orders_checks": BuiltBlock(checks=[ROWS_POSITIVE, FRESH])}
    job = dg.define_asset_job("sales_sync__remediate", selection=[orders.key])
    return data_quality_alert_sensor(TriggerContext(pipeline, pipeline.sensor("on_alert"), job, built))


def run_checks(instance, passing: bool):
    result = dg.materialize([orders, ROWS_POSITIVE, FRESH], instance=instance, tags={"pass": "yes" if passing else "no"})
    assert result.success  # a failed check fails the check, not the run
    return result.run_id


def test_a_failed_check_asks_for_one_remediation_run(tmp_path, data, instance):
    sensor = alert_sensor(tmp_path, data, {"monitored_checks": ["orders_checks"]})
    run_checks(instance, passing=False)  # before the sensor's first tick: history
    first = tick(sensor, instance)
    assert first.run_requests == []

    run_checks(instance, passing=True)
    assert tick(sensor, instance, first.cursor).run_requests == []
    failed_run = run_checks(instance, passing=False)
    second = tick(sensor, instance, first.cursor)
    # Only the ERROR check fires at the default severity; the WARN one fails too.
    [request] = second.run_requests
    assert request.tags["constellation/failed_check"] == "local/sales_sync/orders:rows_positive"
    assert request.tags["constellation/failed_run"] == failed_run
    assert tick(sensor, instance, second.cursor).run_requests == []


def test_warn_severity_fires_for_warnings_too(tmp_path, data, instance):
    sensor = alert_sensor(tmp_path, data, {"monitored_checks": ["orders_checks"], "severity": "WARN"})
    first = tick(sensor, instance)
    run_checks(instance, passing=False)
    names = sorted(r.tags["constellation/failed_check"] for r in tick(sensor, instance, first.cursor).run_requests)
    assert names == ["local/sales_sync/orders:fresh", "local/sales_sync/orders:rows_positive"]


def test_an_alert_file_asks_for_one_remediation_run(tmp_path, data, instance):
    alerts = tmp_path / "alerts"
    alerts.mkdir()
    sensor = alert_sensor(tmp_path, data, {"alert_directory": str(alerts)})
    first = tick(sensor, instance)
    (alerts / "orders-null-ids.json").write_text("{}")
    second = tick(sensor, instance, first.cursor)
    assert [r.tags["constellation/alert_file"] for r in second.run_requests] == [str(alerts / "orders-null-ids.json")]
    assert tick(sensor, instance, second.cursor).run_requests == []


@pytest.mark.parametrize(
    ("sensor_type", "config", "message"),
    [
        ("file_arrival_sensor@1", {"bucket": "landing", "endpoint_url": "http://g:3900"}, r"sensors.s.config.bucket is not supported yet .* watch a local_directory instead"),
        ("file_arrival_sensor@1", {"local_directory": "incoming"}, r"sensors.s.config.local_directory must be an absolute path"),
        ("file_arrival_sensor@1", {"local_directory": "/in", "pattern": "../*.csv"}, r'sensors.s.config.pattern must stay inside local_directory \(no leading "/", no ".."\)'),
        ("file_arrival_sensor@1", {"local_directory": "/in", "prefix": "/etc"}, r"sensors.s.config.prefix must stay inside local_directory"),
        ("data_quality_alert_sensor@1", {"monitored_checks": ["nope"]}, r'sensors.s.config.monitored_checks\[0\] names no block of this pipeline: "nope"'),
        ("data_quality_alert_sensor@1", {}, r"sensors.s.config.monitored_checks and alert_directory are both missing"),
        ("github_release_sensor@1", {"repository": "nope"}, r'sensors.s.config.repository must be "owner/name"'),
    ],
)
def test_bad_sensor_config_is_refused_at_load_naming_the_field(tmp_path, data, sensor_type, config, message):
    with_sensor(data, "s", sensor_type, config)
    with pytest.raises(PipelineFileError, match=message):
        load(tmp_path, data)


def test_pipeline_file_checks_name_the_sensor(tmp_path, data):
    with_sensor(data, "s", "cron_schedule@1", {})
    with pytest.raises(PipelineFileError, match=r'sensors.s.type is "cron_schedule@1", a sensor type this version'):
        load(tmp_path, data)
    data["sensors"]["s"]["type"] = "file_arrival_sensor@1"
    data["sensors"]["s"]["job"] = "nope"
    with pytest.raises(PipelineFileError, match=r"sensors.s.job names no job of this pipeline: 'nope'"):
        load(tmp_path, data)
