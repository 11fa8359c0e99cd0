"""Turns the plain settings of pipeline.json (retry policies, partitions) into Dagster objects."""

from collections.abc import Mapping
from datetime import datetime, timezone
from typing import Any

import dagster as dg

_BACKOFF = {"linear": dg.Backoff.LINEAR, "exponential": dg.Backoff.EXPONENTIAL}
_JITTER = {"full": dg.Jitter.FULL, "plus_minus": dg.Jitter.PLUS_MINUS}
_TIME_WINDOWS = {
    "hourly": dg.HourlyPartitionsDefinition,
    "daily": dg.DailyPartitionsDefinition,
    "weekly": dg.WeeklyPartitionsDefinition,
    "monthly": dg.MonthlyPartitionsDefinition,
}


def retry_policy(policy: Mapping[str, Any] | None) -> dg.RetryPolicy | None:
    """A ``dg.RetryPolicy`` from ``{max_retries, delay_seconds, backoff, jitter}``, or None."""
    if policy is None:
        return None
    backoff, jitter = policy.get("backoff"), policy.get("jitter")
    return dg.RetryPolicy(
        max_retries=policy["max_retries"],
        delay=policy.get("delay_seconds"),
        backoff=_BACKOFF[backoff] if backoff else None,
        jitter=_JITTER[jitter] if jitter else None,
    )


def partitions_def(partitions: Mapping[str, Any] | None) -> dg.PartitionsDefinition | None:
    """The pipeline's partitions: hourly/daily/weekly/monthly from a start date, or static values."""
    if partitions is None:
        return None
    kind = partitions["type"]
    if kind == "static":
        return dg.StaticPartitionsDefinition(list(partitions["values"]))
    if kind not in _TIME_WINDOWS:
        raise ValueError(f'pipeline.json: partitions.type "{kind}" is not one of static, {", ".join(_TIME_WINDOWS)}')
    # Dates as datetimes, not strings: each class parses strings with its own format (hourly
    # expects "%Y-%m-%d-%H:%M"), while pipeline.json always holds plain YYYY-MM-DD dates.
    end_date = partitions.get("end_date")
    return _TIME_WINDOWS[kind](
        start_date=datetime.strptime(partitions["start_date"], "%Y-%m-%d"),
        end_date=datetime.strptime(end_date, "%Y-%m-%d") if end_date else None,
        timezone=partitions.get("timezone") or "UTC",
    )


def partitioned_schedule_fn(partitions: dg.PartitionsDefinition):
    """A schedule evaluation function that asks for the partitions a tick should run.

    A partitioned job cannot run without a partition key, so a plain cron schedule would fail on
    every tick. Time windows run the last window complete at the tick (as Dagster's own
    ``build_schedule_from_partitioned_job`` does, but keeping the user's cron); static partitions
    run every value.
    """

    # A generator: ScheduleDefinition's execution_fn takes one RunRequest/SkipReason or yields them.
    def evaluate(context: dg.ScheduleEvaluationContext):
        if isinstance(partitions, dg.TimeWindowPartitionsDefinition):
            keys = partitions.get_partition_keys(current_time=context.scheduled_execution_time)
            if not keys:
                yield dg.SkipReason("No partition window has ended yet.")
                return
            yield dg.RunRequest(partition_key=keys[-1])
            return
        # Dagster needs a run key per request when a tick asks for several runs; one per tick
        # and value, so the next tick runs every value again.
        tick = (context.scheduled_execution_time or datetime.now(timezone.utc)).isoformat()
        for key in partitions.get_partition_keys():
            yield dg.RunRequest(partition_key=key, run_key=f"{key}@{tick}")

    return evaluate
