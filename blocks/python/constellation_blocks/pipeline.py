"""Reads a compiled pipeline's ``pipeline.json`` and hands its settings to ``definitions.py``.

Generated modules hold no user-written text: names, descriptions, config, cron expressions and
secret names all come from pipeline.json through this class, at load time.
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

from constellation_blocks import block_types, dagster_settings

if TYPE_CHECKING:
    # What define_asset_job returns; dagster does not export the class at top level.
    from dagster._core.definitions.unresolved_asset_job_definition import UnresolvedAssetJobDefinition

FORMAT = 1
"""The pipeline.json format this library reads; the compiler writes it as ``"format"``."""

GROUP_NAME = "pipeline"
"""Every asset's group. A code location holds one pipeline, so a constant says all there is."""

_REQUIRED_KEYS = ("blocks", "jobs", "schedules", "partitions", "pipeline", "run_tags")
_ENV_VAR_NAME = re.compile(r"^[A-Z][A-Z0-9_]*$")


class PipelineFileError(ValueError):
    """pipeline.json is missing, malformed, or written for another version of this library."""


@dataclass(frozen=True)
class Block:
    """One block of the pipeline, as its step function receives it.

    ``config`` has the manifest defaults filled in; ``downstream`` lists the ids (= asset names)
    of the blocks that consume this one's output.
    """

    id: str
    type: str
    name: str
    description: str | None
    config: dict[str, Any]
    downstream: list[str]


class Pipeline:
    """A compiled pipeline: its blocks, jobs, schedules and run tags, read from pipeline.json."""

    def __init__(self, data: Mapping[str, Any], source: str = "pipeline.json"):
        """Checks ``data`` (the parsed pipeline.json) and keeps it; prefer ``Pipeline.load``."""
        fmt = data.get("format") if isinstance(data, Mapping) else None
        if fmt != FORMAT:
            raise PipelineFileError(
                f"{source}: format {fmt!r} is not supported; this version of constellation_blocks reads "
                f"format {FORMAT}. Recompile the pipeline, or install the constellation-blocks version it was compiled for."
            )
        missing = [key for key in _REQUIRED_KEYS if key not in data]
        if missing:
            raise PipelineFileError(f"{source}: missing key(s) {', '.join(missing)}; recompile the pipeline.")
        unknown = sorted({b["type"] for b in data["blocks"].values() if not block_types.is_known(b["type"])})
        if unknown:
            raise PipelineFileError(
                f"{source}: block type(s) {', '.join(unknown)} are not implemented by this version of constellation_blocks."
            )
        self._data = data
        self._source = source

    @classmethod
    def load(cls, path: str | Path) -> Pipeline:
        """Reads and checks the pipeline.json at ``path``."""
        path = Path(path)
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise PipelineFileError(f"{path}: not found; it must sit beside definitions.py.") from None
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
            config=block_types.with_defaults(raw["type"], raw.get("config") or {}),
            downstream=list(raw.get("downstream") or []),
        )

    def asset_args(self, block_id: str) -> dict[str, Any]:
        """Keyword arguments for ``@dg.asset(**...)`` of the block ``block_id``."""
        block = self.block(block_id)
        args: dict[str, Any] = {
            "description": block.description or block.name,
            "metadata": {"constellation/block_type": block.type, "constellation/name": block.name},
            "kinds": {block_types.kind(block.type)},
            "group_name": GROUP_NAME,
        }
        policy = dagster_settings.retry_policy(self._raw_block(block_id).get("retry_policy"))
        if policy is not None:
            args["retry_policy"] = policy
        if self._partitions_def is not None:
            args["partitions_def"] = self._partitions_def
        return args

    def asset_job(self, job_id: str) -> UnresolvedAssetJobDefinition:
        """The job ``job_id``: materializes its blocks' assets, with the pipeline's run tags."""
        job = self._entry("jobs", job_id)
        return dg.define_asset_job(
            name=job_id,
            selection=dg.AssetSelection.assets(*job["blocks"]),
            # As job tags they also reach every run of the job, scheduled or launched by hand.
            tags=self.run_tags,
            description=job.get("description") or f"Materializes {len(job['blocks'])} block(s) of {self.name}.",
        )

    def schedule(self, schedule_id: str, job: UnresolvedAssetJobDefinition) -> dg.ScheduleDefinition:
        """The schedule ``schedule_id`` for ``job``, running from the moment the location loads."""
        spec = self._entry("schedules", schedule_id)
        if spec["job"] != job.name:
            raise PipelineFileError(f'{self._source}: schedule "{schedule_id}" targets job "{spec["job"]}", not "{job.name}".')
        args: dict[str, Any] = {}
        if self._partitions_def is not None:
            args["execution_fn"] = dagster_settings.partitioned_schedule_fn(self._partitions_def)
        return dg.ScheduleDefinition(
            name=schedule_id,
            job=job,
            cron_schedule=spec["cron"],
            execution_timezone=spec.get("timezone") or "UTC",
            # Dagster starts schedules STOPPED; a deployed schedule is meant to fire.
            default_status=dg.DefaultScheduleStatus.RUNNING,
            description=spec.get("description") or f"Runs {job.name} on cron {spec['cron']}.",
            **args,
        )

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

    def _raw_block(self, block_id: str) -> Mapping[str, Any]:
        return self._entry("blocks", block_id)

    def _entry(self, section: str, key: str) -> Mapping[str, Any]:
        try:
            return self._data[section][key]
        except KeyError:
            known = ", ".join(sorted(self._data[section])) or "none"
            raise PipelineFileError(f'{self._source}: no {section[:-1]} "{key}" (known: {known}).') from None
