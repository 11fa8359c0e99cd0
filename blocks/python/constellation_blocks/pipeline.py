"""Reads a compiled pipeline's ``pipeline.json`` and hands its settings to the Dagster wiring.

Two formats. Format 1 is read by the generated ``definitions.py`` of a legacy one-pipeline
location (``asset_args``, ``asset_job``, ``schedule``, ``secret``); format 2 by
``PipelineComponent``, which builds the whole pipeline from the file (keys prefixed by the
pipeline's namespace, Dagster names given by the compiler). Both go through the same methods here,
so the two cannot drift apart. No user-written text is ever Python source: names, descriptions,
config, cron expressions and secret names all come from pipeline.json, at load time.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

import dagster as dg

from constellation_blocks import block_types, dagster_settings, duckdb_steps, repo_blocks
from constellation_blocks.column_contracts import NeededColumn
from constellation_blocks.pipeline_checks import FORMATS, PipelineFileError, check

if TYPE_CHECKING:
    # What define_asset_job returns; dagster does not export the class at top level.
    from dagster._core.definitions.unresolved_asset_job_definition import UnresolvedAssetJobDefinition

    from constellation_blocks.building import BuiltBlock

__all__ = ["FORMATS", "GROUP_NAME", "Block", "Input", "Pipeline", "PipelineFileError", "Sensor"]

GROUP_NAME = "pipeline"
"""Every asset's group in format 1, where a code location holds one pipeline."""

_ENV_VAR_NAME = re.compile(r"^[A-Z][A-Z0-9_]*$")


@dataclass(frozen=True)
class Block:
    """One block of the pipeline, as its step function receives it.

    ``config`` has the manifest defaults filled in; ``downstream`` lists the ids of the blocks that
    consume this one's output. A block's asset key is ``key_prefix + (id,)``: the pipeline's
    namespace in format 2, nothing in format 1 (the key is the id). ``pipeline_id`` is the id of
    the pipeline the block belongs to.
    """

    id: str
    type: str
    name: str
    description: str | None
    config: dict[str, Any]
    downstream: list[str]
    key_prefix: tuple[str, ...] = ()
    pipeline_id: str | None = None
    secrets: tuple[tuple[str, str | None], ...] = ()
    """A repository block type's manifest secrets: (name, config field or None); see repo_blocks.secret."""

    def asset_key(self, block_id: str | None = None) -> dg.AssetKey:
        """The asset key of this block, or of the block ``block_id`` of the same pipeline."""
        return dg.AssetKey([*self.key_prefix, block_id or self.id])


@dataclass(frozen=True)
class Input:
    """A connected input port of a block (format 2): the upstream blocks feeding it, in edge order."""

    port: str
    upstream: tuple[str, ...]
    multiple: bool
    columns: tuple[NeededColumn, ...] = ()
    """Columns every table arriving here must have (pipeline.json's edge contracts; none when absent)."""


@dataclass(frozen=True)
class Sensor:
    """One sensor of the pipeline (format 2): its Dagster name, type, the spec id of its job, and config with defaults."""

    id: str
    name: str
    type: str
    job: str
    config: dict[str, Any]
    description: str | None


class Pipeline:
    """A compiled pipeline: its blocks, jobs, schedules, sensors and run tags, read from pipeline.json."""

    def __init__(self, data: Mapping[str, Any], source: str = "pipeline.json"):
        """Checks ``data`` (the parsed pipeline.json) and keeps it; prefer ``Pipeline.load``."""
        self.format = check(data, source)
        self._data = data
        self._source = source
        self.repo_types = repo_blocks.parse(data.get("repo_block_types")) if self.format >= 2 else {}
        """The repository block types this pipeline uses, by type ref (pipeline.json's ``repo_block_types``)."""

    @classmethod
    def load(cls, path: str | Path) -> Pipeline:
        """Reads and checks the pipeline.json at ``path``."""
        path = Path(path)
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise PipelineFileError(f"{path}: not found; it must sit beside definitions.py (or defs.yaml).") from None
        except json.JSONDecodeError as error:
            raise PipelineFileError(f"{path}: not valid JSON ({error}).") from None
        return cls(data, source=str(path))

    @property
    def id(self) -> str:
        """The pipeline's id in Constellation Agent."""
        return self._data["pipeline"]["id"]

    @property
    def name(self) -> str:
        """The pipeline's display name."""
        return self._data["pipeline"]["name"]

    @property
    def source(self) -> str:
        """Where the file was read from, for error messages."""
        return self._source

    @property
    def key_prefix(self) -> tuple[str, ...]:
        """What every asset key of the pipeline starts with: its namespace (empty in format 1)."""
        return tuple(self._data["namespace"]["asset_key_prefix"]) if self.format >= 2 else ()

    @property
    def group(self) -> str:
        """The Dagster group of every asset of the pipeline."""
        return self._data["namespace"]["group"] if self.format >= 2 else GROUP_NAME

    @property
    def block_ids(self) -> list[str]:
        """The ids of the pipeline's blocks, in file order."""
        return list(self._data["blocks"])

    def topological_block_ids(self) -> list[str]:
        """The block ids with every block after the blocks feeding it (file order where free to choose)."""
        order: list[str] = []
        placed: set[str] = set()

        def place(block_id: str, path: tuple[str, ...]) -> None:
            if block_id in placed:
                return
            if block_id in path:
                raise PipelineFileError(f"{self._source}: blocks {' -> '.join((*path, block_id))} form a cycle.")
            for upstream in self._upstream_ids(block_id):
                place(upstream, (*path, block_id))
            placed.add(block_id)
            order.append(block_id)

        for block_id in self.block_ids:
            place(block_id, ())
        return order

    def _upstream_ids(self, block_id: str) -> list[str]:
        raw = self._raw_block(block_id)
        if self.format >= 2:
            return [u for port in raw["inputs"] for u in port["upstream"]]
        return [b for b in self.block_ids if block_id in (self._raw_block(b).get("downstream") or [])]

    @property
    def job_ids(self) -> list[str]:
        """The spec ids of the pipeline's jobs, in file order."""
        return list(self._data["jobs"])

    @property
    def schedule_ids(self) -> list[str]:
        """The spec ids of the pipeline's schedules, in file order."""
        return list(self._data["schedules"])

    @property
    def sensor_ids(self) -> list[str]:
        """The spec ids of the pipeline's sensors, in file order (none in format 1)."""
        return list(self._data["sensors"]) if self.format >= 2 else []

    def sensor(self, sensor_id: str) -> Sensor:
        """The sensor ``sensor_id`` with its config (manifest defaults filled in)."""
        raw = self._entry("sensors", sensor_id)
        return Sensor(
            id=sensor_id,
            name=raw["name"],
            type=raw["type"],
            job=raw["job"],
            config=block_types.sensor_with_defaults(raw["type"], raw.get("config") or {}),
            description=raw.get("description"),
        )

    def asset_key(self, block_id: str) -> dg.AssetKey:
        """The asset key of the block ``block_id``: the namespace prefix and the id."""
        self._raw_block(block_id)
        return dg.AssetKey([*self.key_prefix, block_id])

    @property
    def run_tags(self) -> dict[str, str]:
        """Tags every run of every job carries (pipeline id and version), as strings."""
        return {key: str(value) for key, value in self._data["run_tags"].items()}

    def block(self, block_id: str) -> Block:
        """The block ``block_id`` with its config (manifest defaults filled in)."""
        raw = self._raw_block(block_id)
        return Block(
            id=block_id,
            type=raw["type"],
            name=raw.get("name") or block_id,
            description=raw.get("description"),
            config=block_types.with_defaults(raw["type"], raw.get("config") or {}, self.repo_types),
            downstream=list(raw.get("downstream") or []),
            key_prefix=self.key_prefix,
            pipeline_id=self.id,
            secrets=self.repo_types[raw["type"]].secrets if raw["type"] in self.repo_types else (),
        )

    def inputs(self, block_id: str) -> list[Input]:
        """The block's connected input ports (format 2; format 1 wires them in definitions.py)."""
        raw = self._raw_block(block_id)
        self._require_format(2, f"blocks.{block_id}.inputs")
        return [
            Input(
                port["port"],
                tuple(port["upstream"]),
                port["multiple"],
                tuple(NeededColumn(c["name"], c.get("type")) for c in port.get("columns") or []),
            )
            for port in raw["inputs"]
        ]

    def resource_key(self, block_id: str) -> str | None:
        """The key of the block's connection resource (format 2), None when its type takes none."""
        raw = self._raw_block(block_id)
        self._require_format(2, f"blocks.{block_id}.resource_key")
        return raw["resource_key"]

    def asset_args(self, block_id: str) -> dict[str, Any]:
        """Keyword arguments for ``@dg.asset(**...)`` of the block ``block_id``."""
        block = self.block(block_id)
        args: dict[str, Any] = {
            "description": block.description or block.name,
            "metadata": {"constellation/block_type": block.type, "constellation/name": block.name},
            "kinds": {block_types.kind(block.type, self.repo_types)},
            "group_name": self.group,
        }
        policy = dagster_settings.retry_policy(self._raw_block(block_id).get("retry_policy"))
        if policy is not None:
            args["retry_policy"] = policy
        if self._partitions_def is not None:
            args["partitions_def"] = self._partitions_def
        tags = duckdb_steps.op_tags(block.type, block.config)
        if tags:
            args["op_tags"] = tags
        return args

    def job_name(self, job_id: str) -> str:
        """The Dagster name of the job ``job_id``: its id in format 1, the compiler's name after."""
        job = self._entry("jobs", job_id)
        return job["name"] if self.format >= 2 else job_id

    def asset_job(self, job_id: str, built: Mapping[str, BuiltBlock] | None = None) -> UnresolvedAssetJobDefinition:
        """The job ``job_id``: materializes its blocks' assets and runs their checks, with the pipeline's run tags.

        ``built`` (format 2) holds what each block made: a block may make several assets, or only
        checks on its upstream's; without it, a block is its one asset (format 1). A job with
        ``"checks": false`` (an emergency refresh) materializes the assets and runs no check at all.
        """
        job = self._entry("jobs", job_id)
        if built is None:
            selection = dg.AssetSelection.assets(*(self.asset_key(block_id) for block_id in job["blocks"]))
        else:
            assets = [key for block_id in job["blocks"] for a in built[block_id].assets for key in a.keys]
            selection = dg.AssetSelection.assets(*assets).without_checks()
            if job.get("checks", True):
                checks = [key for block_id in job["blocks"] for key in built[block_id].check_keys]
                selection = selection | dg.AssetSelection.checks(*checks)
        return dg.define_asset_job(
            name=self.job_name(job_id),
            selection=selection,
            # As job tags they also reach every run of the job, scheduled or launched by hand.
            tags=self.run_tags,
            description=job.get("description") or f"Materializes {len(job['blocks'])} block(s) of {self.name}.",
            executor_def=duckdb_steps.EXECUTOR,
        )

    def schedule(self, schedule_id: str, job: UnresolvedAssetJobDefinition) -> dg.ScheduleDefinition:
        """The schedule ``schedule_id`` for ``job``, running from the moment the location loads."""
        spec = self._entry("schedules", schedule_id)
        if self.job_name(spec["job"]) != job.name:
            raise PipelineFileError(f'{self._source}: schedule "{schedule_id}" targets job "{spec["job"]}", not "{job.name}".')
        args: dict[str, Any] = {}
        if self._partitions_def is not None:
            args["execution_fn"] = dagster_settings.partitioned_schedule_fn(self._partitions_def)
        return dg.ScheduleDefinition(
            name=spec["name"] if self.format >= 2 else schedule_id,
            job=job,
            cron_schedule=spec["cron"],
            execution_timezone=spec.get("timezone") or "UTC",
            # Dagster starts schedules STOPPED; a deployed schedule is meant to fire.
            default_status=dg.DefaultScheduleStatus.RUNNING,
            description=spec.get("description") or f"Runs {job.name} on cron {spec['cron']}.",
            **args,
        )

    def schedule_job(self, schedule_id: str) -> str:
        """The spec id of the job that the schedule ``schedule_id`` runs."""
        return self._entry("schedules", schedule_id)["job"]

    def secret(self, block_id: str, field: str) -> dg.EnvVar:
        """The environment variable named by the block's config ``field``, read at run time."""
        name = self.block(block_id).config.get(field)
        if not isinstance(name, str) or not _ENV_VAR_NAME.match(name):
            raise PipelineFileError(
                f'{self._source}: blocks.{block_id}.config.{field} must name an environment variable '
                f"(like POSTGRES_URL), got {name!r}."
            )
        return dg.EnvVar(name)

    @cached_property
    def _partitions_def(self) -> dg.PartitionsDefinition | None:
        # One shared instance: every asset of a job must carry the same partitions definition.
        return dagster_settings.partitions_def(self._data["partitions"])

    def _require_format(self, fmt: int, key: str) -> None:
        if self.format < fmt:
            raise PipelineFileError(f"{self._source}: {key} exists from format {fmt} on; this file is format {self.format}.")

    def _raw_block(self, block_id: str) -> Mapping[str, Any]:
        return self._entry("blocks", block_id)

    def _entry(self, section: str, key: str) -> Mapping[str, Any]:
        try:
            return self._data[section][key]
        except KeyError:
            known = ", ".join(sorted(self._data[section])) or "none"
            raise PipelineFileError(f'{self._source}: no {section[:-1]} "{key}" (known: {known}).') from None
