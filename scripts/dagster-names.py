"""Prints, as JSON, the naming rules of the Dagster installed beside this Python.

scripts/dagster-names.sh writes the output to src/pipelines/dagster-names.json, which validation
reads: ids that Dagster would refuse at load are refused when a spec is validated instead.
"""

import json
import keyword
import sys
from importlib.metadata import version
from importlib.resources import files

from dagster._core.definitions.partitions.utils.base import INVALID_PARTITION_SUBSTRINGS
from dagster._core.definitions.utils import DISALLOWED_NAMES, VALID_NAME_REGEX_STR

json.dump(
    {
        "generated_by": "scripts/dagster-names.sh from the pinned Dagster; do not edit by hand",
        "dagster_version": version("dagster"),
        "python_version": f"{sys.version_info.major}.{sys.version_info.minor}",
        # dagster._core.definitions.utils.DISALLOWED_NAMES: refused as op, asset, job, schedule
        # and sensor names (check_valid_name).
        "disallowed_names": sorted(DISALLOWED_NAMES),
        "valid_name_regex": VALID_NAME_REGEX_STR,
        # Generated definitions.py uses ids as Python names: soft keywords too, to be safe.
        "python_keywords": sorted(set(keyword.kwlist) | set(keyword.softkwlist)),
        # dagster._core.definitions.partitions.utils.base.INVALID_PARTITION_SUBSTRINGS
        "invalid_partition_substrings": INVALID_PARTITION_SUBSTRINGS,
        # Dagster looks schedule and partition time zones up with zoneinfo, whose one source on
        # every machine is the tzdata package Dagster depends on (a system zoneinfo may be absent).
        # ICU (Node's Intl) knows legacy names that tzdata dropped, such as SystemV/AST4.
        "tzdata_version": version("tzdata"),
        "time_zones": sorted(files("tzdata").joinpath("zones").read_text(encoding="utf-8").split()),
    },
    sys.stdout,
    indent=2,
)
sys.stdout.write("\n")
