"""What the dbt blocks know of a dbt project: their checked config, its parsed manifest, and its asset keys.

The project itself lives outside the code location, at ``project_dir`` on the machine where the
pipeline runs; load time never touches it. Its manifest is parsed when the pipeline is deployed
(src/dagster/dbt-manifests.ts) and written beside pipeline.json as ``dbt/<block_id>/manifest.json``:
the models become assets from that file alone, so a shard loads without dbt parsing anything.
"""

import hashlib
import json
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DagsterDbtTranslatorSettings

from constellation_blocks.pipeline import Block, Pipeline, PipelineFileError

COMMANDS = ("build", "run")
_TARGET = re.compile(r"^[A-Za-z0-9_-]+$")

# Parsed manifests by content: the pipelines of a shard that share a project share one dict (and
# dagster-dbt's per-manifest caches), however many copies of the file the shard holds.
_MANIFESTS: dict[str, Mapping[str, Any]] = {}


def manifest_file(pipeline: Pipeline, block_id: str) -> Path:
    """Where the deploy wrote the block's parsed manifest: ``dbt/<block_id>/manifest.json`` beside pipeline.json."""
    return Path(pipeline.source).parent / "dbt" / block_id / "manifest.json"


def load_manifest(pipeline: Pipeline, block_id: str) -> Mapping[str, Any]:
    """The block's parsed dbt manifest; a clear error when the deploy did not write it."""
    path = manifest_file(pipeline, block_id)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise PipelineFileError(
            f"{pipeline.source}: blocks.{block_id} needs its dbt project's manifest at {path}, which the deploy writes after "
            f"parsing blocks.{block_id}.config.project_dir; deploy the pipeline again."
        ) from None
    digest = hashlib.sha256(raw).hexdigest()
    if digest not in _MANIFESTS:
        try:
            manifest = json.loads(raw)
        except json.JSONDecodeError as error:
            raise PipelineFileError(f"{path}: not valid JSON ({error}); deploy the pipeline again.") from None
        if not isinstance(manifest, Mapping) or not isinstance(manifest.get("nodes"), Mapping):
            raise PipelineFileError(f"{path}: not a dbt manifest (no nodes); deploy the pipeline again.")
        _MANIFESTS[digest] = manifest
    return _MANIFESTS[digest]


def checked_config(block: Block, source: str) -> dict[str, Any]:
    """The config of a dbt_run or dbt_test block after the checks that must hold at load, errors naming the key."""
    config = block.config
    where = f"{source}: blocks.{block.id}.config"

    def fail(key: str, problem: str) -> PipelineFileError:
        return PipelineFileError(f"{where}.{key} {problem}")

    for key in ("project_dir", "profiles_dir"):
        value = config.get(key)
        if value is None and key == "profiles_dir":
            continue
        if not isinstance(value, str) or not value.startswith("/"):
            raise fail(key, f"must be an absolute path on the machine where the pipeline runs (like /srv/dbt/analytics), got {value!r}.")
    if config.get("target") is not None and not (isinstance(config["target"], str) and _TARGET.match(config["target"])):
        raise fail("target", f"must name a target of profiles.yml (letters, digits, _ and -), got {config['target']!r}.")
    if "command" in config and config["command"] not in COMMANDS:
        raise fail("command", f"must be one of {', '.join(COMMANDS)}, got {config['command']!r}.")
    for key in ("select", "exclude"):
        if config.get(key) is not None and not (isinstance(config[key], str) and config[key].strip()):
            raise fail(key, f"must be a dbt selection such as \"fqn:*\", got {config[key]!r}.")
    if not isinstance(config.get("vars", {}), Mapping):
        raise fail("vars", f"must be an object of dbt vars, got {type(config['vars']).__name__}.")
    return config


def cli_args(config: Mapping[str, Any]) -> list[str]:
    """The dbt flags every command of the block takes: --vars, when it sets any."""
    return ["--vars", json.dumps(config["vars"], sort_keys=True)] if config.get("vars") else []


def cli_resource(block_id: str, config: Mapping[str, Any]):
    """dagster-dbt's resource for the block's project, made at run time: load time must not need the project."""
    import sys

    from dagster_dbt import DbtCliResource

    # The dbt beside this Python: a code server's PATH need not hold the virtualenv's bin.
    executable = Path(sys.executable).parent / "dbt"
    try:
        return DbtCliResource(
            project_dir=config["project_dir"],
            profiles_dir=config.get("profiles_dir"),
            target=config.get("target"),
            dbt_executable=str(executable) if executable.exists() else "dbt",
        )
    except Exception as error:  # pydantic's validation error says what is missing; say where it was named
        raise dg.Failure(
            f"blocks.{block_id}.config.project_dir {config['project_dir']!r} (or profiles_dir) is not a dbt project here: {error}"
        ) from error


class BlockTranslator(DagsterDbtTranslator):
    """Keys a dbt_run block's models [org, pipeline, block, model], in the pipeline's group.

    A dbt source whose table has the name of a table a block connected to ``sources`` stored (a dlt
    or Airbyte table, keyed [..., block, table]; the table of a sink such as iceberg_table_write,
    keyed [..., block]) is that asset, so the model's lineage starts there; any other source keeps
    dagster-dbt's own key [source, table], an external asset.
    """

    def __init__(
        self,
        block_key: dg.AssetKey,
        asset_args: Mapping[str, Any],
        upstream_tables: Mapping[str, Sequence[dg.AssetKey]],
        where: str,
        checks: bool,
    ):
        # No dbt metadata on source deps: two pipelines of a shard may read one external source
        # through different targets, and Dagster refuses deps on one key with different metadata.
        super().__init__(DagsterDbtTranslatorSettings(enable_asset_checks=checks, enable_source_metadata=False))
        self.block_key = block_key
        self.asset_args = asset_args
        self.where = where
        self.by_table = {table: list(keys) for table, keys in upstream_tables.items()}

    def get_asset_spec(self, manifest: Mapping[str, Any], unique_id: str, project: Any) -> dg.AssetSpec:
        """dagster-dbt's spec; a root model also waits for the upstream assets no dbt source reads.

        A block connected to ``sources`` whose assets match no source table (an Airbyte sync is one
        asset named after its block) would otherwise run beside the models instead of before them.
        """
        spec = super().get_asset_spec(manifest, unique_id, project)
        node = manifest.get("nodes", {}).get(unique_id)
        if node is None or node["resource_type"] != "model":
            return spec
        if any(parent.startswith("model.") for parent in node.get("depends_on", {}).get("nodes", [])):
            return spec
        unread = [key for key in self._unread_upstream(manifest) if key not in {dep.asset_key for dep in spec.deps}]
        return spec.merge_attributes(deps=unread) if unread else spec

    def _unread_upstream(self, manifest: Mapping[str, Any]) -> list[dg.AssetKey]:
        """The connected upstream assets whose table no source of ``manifest`` names."""
        named = {name for props in manifest.get("sources", {}).values() for name in (props.get("identifier"), props["name"]) if name}
        read = {key for table, keys in self.by_table.items() if table in named for key in keys}
        return list(dict.fromkeys(key for keys in self.by_table.values() for key in keys if key not in read))

    def get_asset_key(self, dbt_resource_props: Mapping[str, Any]) -> dg.AssetKey:
        if dbt_resource_props["resource_type"] == "source":
            return self._source_key(dbt_resource_props)
        name = dbt_resource_props["name"]
        version = dbt_resource_props.get("version")
        # Versioned models share a name; dagster-dbt tells them apart the same way.
        return dg.AssetKey([*self.block_key.path, f"{name}_v{version}" if version else name])

    def _source_key(self, props: Mapping[str, Any]) -> dg.AssetKey:
        tables = dict.fromkeys([props.get("identifier") or props["name"], props["name"]])
        for table in tables:
            matches = self.by_table.get(table, [])
            if len(matches) > 1:
                owners = ", ".join(key.path[-2] for key in matches)
                raise PipelineFileError(
                    f"{self.where}: dbt source {props['source_name']}.{props['name']} matches table {table!r} of several "
                    f"upstream blocks ({owners}); connect only the one it reads to the sources port."
                )
            if matches:
                return matches[0]
        return super().get_asset_key(props)

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        return self.asset_args["group_name"]

    def get_metadata(self, dbt_resource_props: Mapping[str, Any]) -> Mapping[str, Any]:
        return {**super().get_metadata(dbt_resource_props), **self.asset_args["metadata"]}
