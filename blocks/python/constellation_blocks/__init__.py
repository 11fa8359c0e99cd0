"""Dagster building blocks for pipelines compiled by Constellation Agent.

Each module holds the resources and the step functions of one family of block types.
``PipelineComponent`` (a shard project's ``defs.yaml`` names it as
``constellation_blocks.PipelineComponent``) builds a whole pipeline from its pipeline.json; the
generated ``definitions.py`` of a legacy one-pipeline location wires the same functions by hand.
"""

import os

# dbt, dlt and DataHub report usage to their vendors unless told not to: that fails on a machine
# without internet and leaks usage on one with it. A process that set them otherwise keeps its say.
for _name, _value in {
    "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
    "RUNTIME__DLTHUB_TELEMETRY": "false",
    "DATAHUB_TELEMETRY_ENABLED": "false",
}.items():
    os.environ.setdefault(_name, _value)

from constellation_blocks.component import PipelineComponent  # noqa: E402

__all__ = ["PipelineComponent"]
