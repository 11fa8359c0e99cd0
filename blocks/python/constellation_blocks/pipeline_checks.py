"""Checks that a parsed pipeline.json has the shape this library reads, before anything uses it.

A file that fails here would otherwise fail later with a bare KeyError or TypeError deep inside
Dagster's load, which says neither which file nor which key; every error here names both (the key
as a path such as ``blocks.extract.inputs[0].upstream``). Format 1 keeps the checks it always had:
legacy locations must load exactly as they did.
"""

from collections.abc import Mapping
from typing import Any

from constellation_blocks import block_types, repo_blocks

FORMATS = (1, 2)
"""The pipeline.json formats this library reads; the compiler writes the one it made as ``"format"``."""

_REQUIRED_KEYS = {
    1: ("blocks", "jobs", "schedules", "partitions", "pipeline", "run_tags"),
    2: ("pipeline", "namespace", "blocks", "jobs", "schedules", "sensors", "partitions", "run_tags"),
}


class PipelineFileError(ValueError):
    """pipeline.json is missing, malformed, or written for another version of this library."""


def check(data: Any, source: str) -> int:
    """The format of ``data`` (a parsed pipeline.json) once it has passed that format's checks."""
    fmt = data.get("format") if isinstance(data, Mapping) else None
    if fmt not in FORMATS:
        raise PipelineFileError(
            f"{source}: format {fmt!r} is not supported; this version of constellation_blocks reads "
            f"formats {' and '.join(map(str, FORMATS))}. Recompile the pipeline, or install the "
            "constellation-blocks version it was compiled for."
        )
    missing = [key for key in _REQUIRED_KEYS[fmt] if key not in data]
    if missing:
        raise PipelineFileError(f"{source}: missing key(s) {', '.join(missing)}; recompile the pipeline.")
    if fmt == 1:
        unknown = sorted({b["type"] for b in data["blocks"].values() if not block_types.is_known(b["type"])})
        if unknown:
            raise PipelineFileError(
                f"{source}: block type(s) {', '.join(unknown)} are not implemented by this version of constellation_blocks."
            )
    else:
        _Format2(source).check(data)
    return fmt


class _Format2:
    """The checks of format 2, each raising with the file and the path of the offending key."""

    def __init__(self, source: str):
        self._source = source

    def check(self, data: Mapping[str, Any]) -> None:
        pipeline = self._object(data["pipeline"], "pipeline")
        self._text(self._key(pipeline, "id", "pipeline"), "pipeline.id")
        namespace = self._object(data["namespace"], "namespace")
        prefix = self._list(self._key(namespace, "asset_key_prefix", "namespace"), "namespace.asset_key_prefix")
        if not prefix:
            self._fail("namespace.asset_key_prefix", "is empty; every asset key of a shard carries its pipeline's prefix")
        for index, part in enumerate(prefix):
            self._text(part, f"namespace.asset_key_prefix[{index}]")
        self._text(self._key(namespace, "group", "namespace"), "namespace.group")

        # Optional: the compiler writes it only for a pipeline using a code repository's block types.
        repo_types = self._repo_types(data.get("repo_block_types") or {})
        blocks = self._object(data["blocks"], "blocks")
        for block_id, block in blocks.items():
            self._block(block_id, self._object(block, f"blocks.{block_id}"), blocks, repo_types)
        jobs = self._object(data["jobs"], "jobs")
        for job_id, job in jobs.items():
            where = f"jobs.{job_id}"
            job = self._object(job, where)
            self._text(self._key(job, "name", where), f"{where}.name")
            for index, block_id in enumerate(self._list(self._key(job, "blocks", where), f"{where}.blocks")):
                self._known(block_id, blocks, f"{where}.blocks[{index}]", "block")
            if not isinstance(job.get("checks", True), bool):
                self._fail(f"{where}.checks", f"must be true or false, got {job['checks']!r}")
        for schedule_id, schedule in self._object(data["schedules"], "schedules").items():
            where = f"schedules.{schedule_id}"
            schedule = self._object(schedule, where)
            self._text(self._key(schedule, "name", where), f"{where}.name")
            self._text(self._key(schedule, "cron", where), f"{where}.cron")
            self._known(self._key(schedule, "job", where), jobs, f"{where}.job", "job")
        for sensor_id, sensor in self._object(data["sensors"], "sensors").items():
            where = f"sensors.{sensor_id}"
            sensor = self._object(sensor, where)
            self._text(self._key(sensor, "name", where), f"{where}.name")
            sensor_type = self._text(self._key(sensor, "type", where), f"{where}.type")
            if not block_types.is_sensor(sensor_type):
                self._fail(f"{where}.type", f'is "{sensor_type}", a sensor type this version of constellation_blocks does not implement')
            self._known(self._key(sensor, "job", where), jobs, f"{where}.job", "job")
            self._object(sensor.get("config") or {}, f"{where}.config")
        if data["partitions"] is not None:
            self._key(self._object(data["partitions"], "partitions"), "type", "partitions")
        self._object(data["run_tags"], "run_tags")

    def _repo_types(self, raw: Any) -> dict[str, repo_blocks.RepoBlockType]:
        for block_type, entry in self._object(raw, "repo_block_types").items():
            where = f"repo_block_types.{block_type}"
            if block_types.is_known(block_type):
                self._fail(where, "is a built-in block type; a code repository's type cannot replace it")
            entry = self._object(entry, where)
            path = self._text(self._key(entry, "callable", where), f"{where}.callable")
            if not repo_blocks.CALLABLE.match(path):
                self._fail(
                    f"{where}.callable",
                    f'must name a function of a code repository\'s package, "{repo_blocks.CALLABLE_SHAPE}", got {path!r}',
                )
            for index, secret in enumerate(self._list(entry.get("secrets") or [], f"{where}.secrets")):
                at = f"{where}.secrets[{index}]"
                secret = self._object(secret, at)
                self._text(self._key(secret, "name", at), f"{at}.name")
                if secret.get("config_field") is not None:
                    self._text(secret["config_field"], f"{at}.config_field")
        return repo_blocks.parse(raw)

    def _block(
        self, block_id: str, block: Mapping[str, Any], blocks: Mapping[str, Any], repo_types: Mapping[str, repo_blocks.RepoBlockType]
    ) -> None:
        where = f"blocks.{block_id}"
        block_type = self._text(self._key(block, "type", where), f"{where}.type")
        if not block_types.is_known(block_type, repo_types):
            self._fail(
                f"{where}.type",
                f'is "{block_type}", a block type this version of constellation_blocks does not implement '
                "and repo_block_types does not name",
            )
        self._object(block.get("config") or {}, f"{where}.config")
        for index, downstream in enumerate(self._list(self._key(block, "downstream", where), f"{where}.downstream")):
            self._known(downstream, blocks, f"{where}.downstream[{index}]", "block")
        ports = set()
        for index, port in enumerate(self._list(self._key(block, "inputs", where), f"{where}.inputs")):
            at = f"{where}.inputs[{index}]"
            port = self._object(port, at)
            name = self._text(self._key(port, "port", at), f"{at}.port")
            if name in ports:
                self._fail(f"{at}.port", f'repeats port "{name}"')
            ports.add(name)
            upstream = self._list(self._key(port, "upstream", at), f"{at}.upstream")
            for position, upstream_id in enumerate(upstream):
                self._known(upstream_id, blocks, f"{at}.upstream[{position}]", "block")
            multiple = self._key(port, "multiple", at)
            if not isinstance(multiple, bool):
                self._fail(f"{at}.multiple", f"must be true or false, got {multiple!r}")
            if not multiple and len(upstream) != 1:
                self._fail(f"{at}.upstream", f"must name exactly one block for a port that takes one input, got {len(upstream)}")
            # Optional: the compiler writes it only for an input with edge contracts.
            for position, column in enumerate(self._list(port.get("columns") or [], f"{at}.columns")):
                column = self._object(column, f"{at}.columns[{position}]")
                self._text(self._key(column, "name", f"{at}.columns[{position}]"), f"{at}.columns[{position}].name")
                if column.get("type") is not None:
                    self._text(column["type"], f"{at}.columns[{position}].type")
        resource_key = self._key(block, "resource_key", where)
        if block_types.takes_resource(block_type, repo_types):
            self._text(resource_key, f"{where}.resource_key")
        elif resource_key is not None:
            self._fail(f"{where}.resource_key", f"must be null: {block_type} takes no connection resource")
        policy = block.get("retry_policy")
        if policy is not None:
            self._key(self._object(policy, f"{where}.retry_policy"), "max_retries", f"{where}.retry_policy")

    def _key(self, mapping: Mapping[str, Any], key: str, where: str) -> Any:
        if key not in mapping:
            self._fail(f"{where}.{key}", "is missing")
        return mapping[key]

    def _object(self, value: Any, where: str) -> Mapping[str, Any]:
        if not isinstance(value, Mapping):
            self._fail(where, f"must be an object, got {_json_type(value)}")
        return value

    def _list(self, value: Any, where: str) -> list[Any]:
        if not isinstance(value, list):
            self._fail(where, f"must be a list, got {_json_type(value)}")
        return value

    def _text(self, value: Any, where: str) -> str:
        if not isinstance(value, str) or not value:
            self._fail(where, f"must be a non-empty string, got {value!r}")
        return value

    def _known(self, value: Any, known: Mapping[str, Any], where: str, what: str) -> None:
        if not isinstance(value, str) or value not in known:
            self._fail(where, f"names no {what} of this pipeline: {value!r} (known: {', '.join(sorted(known)) or 'none'})")

    def _fail(self, where: str, problem: str):
        raise PipelineFileError(f"{self._source}: {where} {problem}.")


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    return {bool: "a boolean", int: "a number", float: "a number", str: "a string", list: "a list"}.get(type(value), "an object")
