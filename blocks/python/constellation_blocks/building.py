"""What a block type's builder gets and gives back: the contract between PipelineComponent and block modules.

Most block types make one asset from a step function (``component.single_asset``). A type that
makes more, or something else — dlt's tables, dbt's models with their tests as checks, a Great
Expectations check on its upstream asset — names a builder in ``block_types``; the component calls
it with a ``BlockContext``, upstream blocks first, and gets a ``BuiltBlock``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import dagster as dg

if TYPE_CHECKING:
    from constellation_blocks.pipeline import Block, Pipeline


@dataclass(frozen=True)
class BuiltBlock:
    """A block's Dagster definitions, and the asset keys its output is (what downstream blocks depend on)."""

    assets: list[dg.AssetsDefinition] = field(default_factory=list)
    checks: list[dg.AssetChecksDefinition] = field(default_factory=list)
    keys: tuple[dg.AssetKey, ...] = ()

    @property
    def check_keys(self) -> list[dg.AssetCheckKey]:
        """Every asset check this block defines, by key."""
        return [key for check in self.checks for key in check.check_keys] + [
            key for asset in self.assets for key in asset.check_keys
        ]


@dataclass(frozen=True)
class BlockContext:
    """One block of a pipeline being built, with the connections of the pipeline and the blocks built before it."""

    pipeline: Pipeline
    block_id: str
    resources: Mapping[str, Any]
    built: Mapping[str, BuiltBlock]

    @property
    def block(self) -> Block:
        """The block with its config, manifest defaults filled in."""
        return self.pipeline.block(self.block_id)

    @property
    def key(self) -> dg.AssetKey:
        """The block's own asset key: the pipeline's namespace and the block's id."""
        return self.pipeline.asset_key(self.block_id)

    @property
    def resource_key(self) -> str | None:
        """The key of the block's connection resource, None when its type takes none."""
        return self.pipeline.resource_key(self.block_id)

    def resource_defs(self) -> dict[str, Any] | None:
        """The block's connection, to bind on its assets (see ``component.single_asset`` for why not on the location)."""
        key = self.resource_key
        return {key: self.resources[key]} if key and key in self.resources else None

    def upstream_keys(self, port: str | None = None) -> list[dg.AssetKey]:
        """The asset keys of the blocks feeding this one (through ``port``, or any port), in edge order, each once."""
        keys: dict[dg.AssetKey, None] = {}
        for connected in self.pipeline.inputs(self.block_id):
            if port is None or connected.port == port:
                for upstream in connected.upstream:
                    keys.update(dict.fromkeys(self.built[upstream].keys))
        return list(keys)

    def upstream_tables(self, port: str, block_id: str | None = None) -> dict[str, list[dg.AssetKey]]:
        """The tables the blocks feeding ``port`` (of this block, or of ``block_id``) stored: table name → asset keys.

        A block making one asset per table (dlt, Airbyte) names each asset after its table; a sink
        storing one table (duckdb_load, iceberg_table_write) is one asset named after the block,
        and its config's ``table`` ("schema.name" or "name") names the table it stored.
        """
        tables: dict[str, list[dg.AssetKey]] = {}
        for connected in self.pipeline.inputs(block_id or self.block_id):
            if connected.port != port:
                continue
            for upstream in connected.upstream:
                keys = self.built[upstream].keys
                names = {key: {key.path[-1]} for key in keys}
                stored = self.pipeline.block(upstream).config.get("table")
                if len(keys) == 1 and isinstance(stored, str):
                    names[keys[0]].add(stored.split(".")[-1])
                for key, key_names in names.items():
                    for name in key_names:
                        if key not in tables.setdefault(name, []):
                            tables[name].append(key)
        return tables

    def asset_args(self) -> dict[str, Any]:
        """Description, metadata, kinds, group, retry policy and partitions of the block's assets."""
        return self.pipeline.asset_args(self.block_id)
