"""``PipelineComponent``: one compiled pipeline as a Dagster component of a shared code location.

A shard project's ``defs/<pipeline_slug>/defs.yaml`` names this type and the pipeline.json beside
it; ``build_defs`` builds every asset, job, schedule, sensor and resource of that pipeline from the file.
This is the wiring a legacy location's generated ``definitions.py`` spells out in Python, done here
in tested library code, so that no pipeline ever adds Python source to a location.

No ``from __future__ import annotations`` in this module: Dagster inspects the annotation of the
asset function's ``context`` parameter, which must be the class itself, not a string.
"""

import warnings
from pathlib import Path
from typing import Any

import dagster as dg

from constellation_blocks import block_types, column_contracts, table_io, triggers
from constellation_blocks.building import BlockContext, BuiltBlock
from constellation_blocks.pipeline import Pipeline, PipelineFileError


class PipelineComponent(dg.Component, dg.Resolvable, dg.Model):
    """A pipeline compiled by Constellation Agent, read from ``pipeline_file`` (format 2)."""

    pipeline_file: str
    """The pipeline's pipeline.json, relative to the folder of defs.yaml."""

    def build_defs(self, context: dg.ComponentLoadContext) -> dg.Definitions:
        return pipeline_definitions(Pipeline.load(Path(context.path) / self.pipeline_file))


def pipeline_definitions(pipeline: Pipeline) -> dg.Definitions:
    """The Dagster definitions of a format-2 pipeline: assets, asset checks, jobs, schedules and sensors."""
    if pipeline.format < 2:
        raise PipelineFileError(
            f"{pipeline.source}: format {pipeline.format} belongs to a one-pipeline location's definitions.py; "
            "PipelineComponent reads format 2. Recompile the pipeline."
        )
    resources = _resources(pipeline)
    built = build_blocks(pipeline, resources)
    jobs = {job_id: pipeline.asset_job(job_id, built) for job_id in pipeline.job_ids}
    schedules = [
        pipeline.schedule(schedule_id, job=jobs[pipeline.schedule_job(schedule_id)]) for schedule_id in pipeline.schedule_ids
    ]
    sensors = [
        triggers.build_sensor(pipeline, sensor_id, jobs[pipeline.sensor(sensor_id).job], built) for sensor_id in pipeline.sensor_ids
    ]
    return dg.Definitions(
        assets=[a for block in built.values() for a in block.assets],
        asset_checks=[c for block in built.values() for c in block.checks],
        jobs=list(jobs.values()),
        schedules=schedules,
        sensors=sensors,
        # Values between assets as Parquet/JSON in the environment's table storage, never pickles
        # under DAGSTER_HOME (table_io). The same instance for every pipeline of a shard: Dagster
        # merges the components' definitions only if their resources are the very same object.
        resources={"io_manager": table_io.io_manager_from_env()},
    )


def build_blocks(pipeline: Pipeline, resources: dict[str, Any]) -> dict[str, BuiltBlock]:
    """Each block's Dagster definitions, upstream blocks first, so a block sees what its upstreams made."""
    built: dict[str, BuiltBlock] = {}
    for block_id in pipeline.topological_block_ids():
        build = block_types.builder(pipeline.block(block_id).type, pipeline.repo_types) or single_asset
        built[block_id] = build(BlockContext(pipeline, block_id, resources, dict(built)))
    return built


def single_asset(ctx: BlockContext) -> BuiltBlock:
    """The one asset of a block whose type has a step function: calls it with its resource and input ports."""
    resource_key = ctx.resource_key
    return step_asset(ctx, block_types.step(ctx.block.type, ctx.pipeline.repo_types), resource_key, ctx.resource_defs())


def step_asset(ctx: BlockContext, step: Any, resource_key: str | None, resource_defs: dict[str, Any] | None) -> BuiltBlock:
    """One asset calling ``step(context, block, [resource], **ports)``, ``resource_defs`` bound to it.

    Also what a builder uses when its block is one asset with input ports but binds a resource of
    its own making (the S3 blocks: four settings, not one URL), so the port wiring lives here once.
    """
    pipeline, block_id, block = ctx.pipeline, ctx.block_id, ctx.block
    ports = pipeline.inputs(block_id)
    # One Dagster input per upstream block, named by its id (a valid name: spec ids are checked),
    # so an upstream feeding two ports of this block is loaded once and passed to both.
    upstream = dict.fromkeys(u for port in ports for u in port.upstream)

    # No return annotation: Dagster would check the step's dg.Output against it.
    def materialize(context: dg.AssetExecutionContext, **values: Any):
        resources = [getattr(context.resources, resource_key)] if resource_key else []
        # Before the step touches anything: a source changed since deploy fails here, naming the
        # column, not midway through a sink's write with the database's error.
        for port in ports:
            for u in port.upstream:
                column_contracts.check_input(block_id, port.port, u, values[u], port.columns)
        arguments = {
            port.port: [values[u] for u in port.upstream] if port.multiple else values[port.upstream[0]] for port in ports
        }
        return step(context, block, *resources, **arguments)

    # The connection is bound to the asset, not to the location: a job then carries only its own
    # pipeline's resources. Bound at the location, every job of a shard would carry every
    # pipeline's resources in its config schema, and the shard's snapshot would grow with the
    # square of its pipelines (4 of the 7 s of a reload at 100). `resource_defs` on an asset is
    # marked beta in Dagster 1.13; the warning would be printed for every block of every load.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", dg.BetaWarning)
        asset = dg.asset(
            key=ctx.key,
            ins={name: dg.AssetIn(key=pipeline.asset_key(name)) for name in upstream},
            resource_defs=resource_defs,
            required_resource_keys={resource_key} if resource_key else set(),
            **ctx.asset_args(),
        )(materialize)
    return BuiltBlock(assets=[asset], keys=(ctx.key,))


def _resources(pipeline: Pipeline) -> dict[str, Any]:
    """Each block's connection resource under its (pipeline-namespaced) key, its URL from a secret."""
    resources: dict[str, Any] = {}
    for block_id in pipeline.block_ids:
        resource_key = pipeline.resource_key(block_id)
        spec = block_types.resource(pipeline.block(block_id).type, pipeline.repo_types)
        if not resource_key or not spec:
            continue
        resource = spec.cls(url=pipeline.secret(block_id, spec.secret_field))
        # Blocks may share a key only if they mean the same connection; otherwise one would
        # silently run against the other's database.
        if resources.setdefault(resource_key, resource) != resource:
            raise PipelineFileError(
                f"{pipeline.source}: blocks.{block_id}.resource_key \"{resource_key}\" is already the key of another connection."
            )
    return resources
