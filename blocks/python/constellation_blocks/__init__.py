"""Dagster building blocks for pipelines compiled by Constellation Agent.

Each module holds the resources and the step functions of one family of block types.
``PipelineComponent`` (a shard project's ``defs.yaml`` names it as
``constellation_blocks.PipelineComponent``) builds a whole pipeline from its pipeline.json; the
generated ``definitions.py`` of a legacy one-pipeline location wires the same functions by hand.
"""

from constellation_blocks.component import PipelineComponent

__all__ = ["PipelineComponent"]
