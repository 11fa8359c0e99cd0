"""Sensors of a pipeline: file arrival, GitHub releases and data-quality alerts, one builder per type.

Each builder takes a ``TriggerContext`` (the pipeline, the sensor's entry of pipeline.json, the
job it starts and what the blocks built) and gives a ``dg.SensorDefinition`` that is RUNNING as
soon as its location loads, like the pipeline's schedules. Each keeps a cursor in Dagster, so a
tick that has seen something never starts a run for it again, and each run request carries a
``run_key`` as well, which Dagster itself never launches twice for one sensor.

What fires on the first tick (no cursor yet): files already in a watched directory are waiting to
be processed, so they start runs; releases and failed checks from before the sensor existed are
history, so the first tick only records where they stand and later ticks fire for new ones.

Config is read from pipeline.json at load time; secrets (the GitHub token) are read from the
environment at tick time, by the name the config gives. No ``from __future__ import annotations``:
Dagster inspects the evaluation function's ``context`` parameter.
"""

import json
import os
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import dagster as dg

from constellation_blocks import block_types
from constellation_blocks.building import BuiltBlock
from constellation_blocks.file_watch import FileCursor, missing_directory
from constellation_blocks.pipeline import Pipeline, PipelineFileError, Sensor

_GITHUB_TIMEOUT_SECONDS = 30
# The releases endpoint pages at 100 at most, and a tick reads as many check executions: more new
# ones than that between two ticks (minutes apart) is not a case any repository or check has.
_PAGE = 100
_SEVERITY_RANK = {dg.AssetCheckSeverity.WARN: 0, dg.AssetCheckSeverity.ERROR: 1}


@dataclass(frozen=True)
class TriggerContext:
    """One sensor of a pipeline being built, with the job it starts and what the pipeline's blocks made."""

    pipeline: Pipeline
    sensor: Sensor
    job: Any  # what dg.define_asset_job returns
    built: Mapping[str, BuiltBlock]

    def fail(self, field: str, problem: str) -> PipelineFileError:
        """A load error naming the sensor's config field, to raise."""
        return PipelineFileError(f"{self.pipeline.source}: sensors.{self.sensor.id}.config.{field} {problem}.")

    def tags(self, **extra: str) -> dict[str, str]:
        """Tags of a run this sensor starts: which sensor, and what it saw."""
        return {"constellation/sensor": self.sensor.id, **{f"constellation/{key}": value for key, value in extra.items()}}

    def definition(self, evaluate: Callable[[dg.SensorEvaluationContext], Any], what: str) -> dg.SensorDefinition:
        """The sensor on the context's job, RUNNING from the moment the location loads."""
        return dg.SensorDefinition(
            name=self.sensor.name,
            job=self.job,
            evaluation_fn=evaluate,
            minimum_interval_seconds=int(self.sensor.config["minimum_interval_seconds"]),
            # Dagster starts sensors STOPPED; a deployed sensor is meant to fire. A sensor paused
            # by hand stays paused across reloads: Dagster keeps the state a user set.
            default_status=dg.DefaultSensorStatus.RUNNING,
            description=self.sensor.description or f"Runs {self.job.name} {what}.",
        )


def build_sensor(pipeline: Pipeline, sensor_id: str, job: Any, built: Mapping[str, BuiltBlock]) -> dg.SensorDefinition:
    """The sensor ``sensor_id`` of ``pipeline``, starting ``job``, built by its type's builder."""
    sensor = pipeline.sensor(sensor_id)
    return block_types.sensor_builder(sensor.type)(TriggerContext(pipeline, sensor, job, built))


def file_arrival_sensor(trigger: TriggerContext) -> dg.SensorDefinition:
    """One run per new file under ``local_directory``/``prefix`` matching ``pattern`` (run_key = path and time)."""
    config = trigger.sensor.config
    if config.get("bucket"):
        raise trigger.fail("bucket", "is not supported yet by this version of constellation_blocks; watch a local_directory instead")
    directory = _directory(trigger, "local_directory")
    for field in ("prefix", "pattern"):
        # A path that climbs out of the directory (or starts over at /) would watch something else.
        if str(config[field]).startswith("/") or ".." in Path(str(config[field])).parts:
            raise trigger.fail(field, f'must stay inside local_directory (no leading "/", no ".."), got {config[field]!r}')
    directory = directory / config["prefix"] if config["prefix"] else directory
    pattern = config["pattern"]

    def evaluate(context: dg.SensorEvaluationContext):
        problem = missing_directory(directory)
        if problem:
            return dg.SkipReason(problem)
        new, cursor = FileCursor.parse(context.cursor).scan(directory, pattern)
        return dg.SensorResult(
            run_requests=[dg.RunRequest(run_key=f.run_key, tags=trigger.tags(file=str(f.path))) for f in new],
            skip_reason=None if new else f"No new file matching {pattern} in {directory}.",
            cursor=cursor.dump(),
        )

    return trigger.definition(evaluate, f"for each new file matching {pattern} in {directory}")


def github_release_sensor(trigger: TriggerContext) -> dg.SensorDefinition:
    """One run per release published after the first tick (cursor = the highest release id seen)."""
    config = trigger.sensor.config
    repository, token_name = config["repository"], config["token_secret"]
    if not isinstance(repository, str) or repository.count("/") != 1:
        raise trigger.fail("repository", f'must be "owner/name", got {repository!r}')
    url = f"{str(config['api_url']).rstrip('/')}/repos/{repository}/releases?per_page={_PAGE}"
    include_prereleases = bool(config["include_prereleases"])

    def evaluate(context: dg.SensorEvaluationContext):
        releases = [
            r for r in _github_releases(url, os.environ.get(token_name), token_name)
            if not r.get("draft") and (include_prereleases or not r.get("prerelease"))
        ]
        highest = max((int(r["id"]) for r in releases), default=None)
        if context.cursor is None:
            return dg.SensorResult(
                skip_reason=f"First tick: {len(releases)} existing release(s) of {repository} recorded; only newer ones start runs.",
                cursor=str(highest or 0),
            )
        seen = int(context.cursor)
        new = sorted((r for r in releases if int(r["id"]) > seen), key=lambda r: int(r["id"]))
        return dg.SensorResult(
            run_requests=[
                dg.RunRequest(run_key=f"release-{r['id']}", tags=trigger.tags(github_release=str(r.get("tag_name") or r["id"])))
                for r in new
            ],
            skip_reason=None if new else f"No new release of {repository}.",
            cursor=str(max(seen, highest or 0)),
        )

    return trigger.definition(evaluate, f"for each new release of {repository}")


def data_quality_alert_sensor(trigger: TriggerContext) -> dg.SensorDefinition:
    """One run per failed check of the monitored blocks (at or above ``severity``) and per new alert file."""
    config = trigger.sensor.config
    if not config.get("monitored_checks") and not config.get("alert_directory"):
        raise trigger.fail("monitored_checks", "and alert_directory are both missing; give either, or both")
    check_keys: list[dg.AssetCheckKey] = []
    for index, block_id in enumerate(config.get("monitored_checks") or []):
        if block_id not in trigger.built:
            raise trigger.fail(f"monitored_checks[{index}]", f'names no block of this pipeline: "{block_id}"')
        check_keys.extend(trigger.built[block_id].check_keys)
    if config["severity"] not in ("WARN", "ERROR"):
        raise trigger.fail("severity", f'must be "WARN" or "ERROR", got {config["severity"]!r}')
    lowest = _SEVERITY_RANK[dg.AssetCheckSeverity(config["severity"])]
    alerts = _directory(trigger, "alert_directory") if config.get("alert_directory") else None

    def evaluate(context: dg.SensorEvaluationContext):
        cursor = json.loads(context.cursor) if context.cursor else {"checks": None, "files": None}
        requests: list[dg.RunRequest] = []
        checks, failed = _failed_checks(context.instance, check_keys, cursor["checks"], lowest)
        for record in failed:
            name = record.key.to_user_string()
            requests.append(dg.RunRequest(run_key=f"check-{name}-{record.id}", tags=trigger.tags(failed_check=name, failed_run=record.run_id)))
        files = cursor["files"]
        skipped = None
        if alerts is not None:
            problem = missing_directory(alerts)
            if problem:
                skipped = problem
            else:
                new, after = FileCursor.parse(files).scan(alerts, "*")
                files = after.dump()
                requests.extend(dg.RunRequest(run_key=f.run_key, tags=trigger.tags(alert_file=str(f.path))) for f in new)
        return dg.SensorResult(
            run_requests=requests,
            skip_reason=None if requests else skipped or "No new failed check and no new alert file.",
            cursor=json.dumps({"checks": checks, "files": files}, sort_keys=True),
        )

    return trigger.definition(evaluate, "for each failed data-quality check or alert file")


def _failed_checks(instance: dg.DagsterInstance, keys: list[dg.AssetCheckKey], seen: dict[str, int] | None, lowest: int):
    """The failed evaluations of ``keys`` newer than ``seen`` (check → last execution id handled), and ``seen`` after them.

    For a check not in ``seen`` (the first tick, or a check added by a redeploy) nothing is
    returned: its failures from before the sensor watched it are only recorded. An execution's id
    is fixed when its run plans it, so ids rise per check.
    """
    from dagster._core.storage.asset_check_execution_record import AssetCheckExecutionRecordStatus

    storage = instance.event_log_storage
    after: dict[str, int] = dict(seen or {})
    failed = []
    for key in keys:
        name = key.to_user_string()
        history = storage.get_asset_check_execution_history(key, limit=_PAGE, status={AssetCheckExecutionRecordStatus.FAILED})
        last = after.get(name, 0)
        if seen is not None and name in seen:
            for record in sorted((r for r in history if r.id > last), key=lambda r: r.id):
                evaluation = record.event.asset_check_evaluation if record.event else None
                severity = evaluation.severity if evaluation else dg.AssetCheckSeverity.ERROR
                if _SEVERITY_RANK[severity] >= lowest:
                    failed.append(record)
        after[name] = max([last, *(r.id for r in history)])
    return after, failed


def _directory(trigger: TriggerContext, field: str) -> Path:
    value = trigger.sensor.config.get(field)
    if not isinstance(value, str) or not value:
        raise trigger.fail(field, "is missing: name the directory to watch, as the Dagster daemon sees it")
    path = Path(value)
    if not path.is_absolute():
        raise trigger.fail(field, f"must be an absolute path (the daemon's working directory is not the pipeline's), got {value!r}")
    return path


def _github_releases(url: str, token: str | None, token_name: str) -> list[dict[str, Any]]:
    """GitHub's list of releases (newest first), with the token from the environment when it is set."""
    headers = {"Accept": "application/vnd.github+json", "X-GitHub-Api-Version": "2022-11-28", "User-Agent": "constellation-blocks"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    try:
        with urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=_GITHUB_TIMEOUT_SECONDS) as response:
            return json.loads(response.read())
    except urllib.error.HTTPError as error:
        hint = {
            401: f"the token in {token_name} was refused",
            403: f"access denied or rate limited; set {token_name} to a token that can read the repository",
            404: f"no such repository, or it is private and {token_name} is unset or cannot read it",
        }.get(error.code, "unexpected answer")
        raise RuntimeError(f"GitHub answered {error.code} for {url}: {hint}.") from None
    except urllib.error.URLError as error:
        raise RuntimeError(f"GitHub's API at {url} could not be reached: {error.reason}.") from None
