"""Reads a JSON list of cron strings on stdin; prints, for each, what the installed Dagster makes
of it as a schedule: {"ok": bool, "error": str | None, "ticks": [ISO, ...]}.

"ok" means ScheduleDefinition accepts it without its out-of-range-interval warning and
cron_string_iterator (what the daemon uses to find ticks) yields the next ticks, in UTC and in a
zone with daylight saving time. Used by test/pipelines/cron-dialect.test.ts.
"""

import itertools
import json
import sys
import warnings

import dagster as dg
from dagster._utils.schedules import cron_string_iterator, is_valid_cron_string

START = float(sys.argv[1])
JOB = dg.define_asset_job("job")


def verdict(cron: str) -> dict:
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            dg.ScheduleDefinition(name="schedule", job=JOB, cron_schedule=cron)
        interval = [str(w.message) for w in caught if "interval" in str(w.message)]
        if interval:
            return {"ok": False, "error": f"warning: {interval[0]}", "ticks": None}
        ticks = [d.isoformat() for d in itertools.islice(cron_string_iterator(START, cron, "UTC"), 5)]
        list(itertools.islice(cron_string_iterator(START, cron, "Europe/Berlin"), 5))
        return {"ok": True, "error": None, "ticks": ticks, "is_valid_cron_string": is_valid_cron_string(cron)}
    except Exception as error:  # noqa: BLE001 - any refusal is an answer here
        return {"ok": False, "error": f"{type(error).__name__}: {error}"[:300], "ticks": None}


json.dump({cron: verdict(cron) for cron in json.load(sys.stdin)}, sys.stdout)
