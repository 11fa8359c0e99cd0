"""Block types from a code repository (docs/code-repositories.md): their pipeline.json entry, their step, their secrets.

A pipeline using one carries ``"repo_block_types": {"<namespace>__<name>@<n>": {"callable":
"constellation_repo_<namespace>_<12 hex>.<module>:<function>", "secrets": [{"name": ...,
"config_field": ... or null}]}}``. The callable is imported only from a package whose name has that
shape: the compiler copies each registered commit's code into the shard under such a name, so
pipeline.json can never make a location import anything else (the library, Dagster, ``os``...).

The types are the pipeline's own (``Pipeline.repo_types``), not registered process-wide: two
pipelines of one shard may pin different versions, and a type ref always names one commit's
package, so nothing here depends on the order pipelines load in.

Repository code calls ``secret(block, "API_TOKEN")`` at run time for its manifest's secrets.
"""

from __future__ import annotations

import importlib
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from constellation_blocks.pipeline import Block

__all__ = ["CALLABLE", "PACKAGE", "RepoBlockType", "resolve", "secret"]

PACKAGE = re.compile(r"^constellation_repo_[a-z][a-z0-9_]*_[0-9a-f]{12}$")
"""The import name of one commit's code: ``constellation_repo_<namespace>_<first 12 hex of the commit>``."""

CALLABLE = re.compile(
    r"^(?P<package>constellation_repo_[a-z][a-z0-9_]*_[0-9a-f]{12})(?P<modules>(?:\.[A-Za-z_][A-Za-z0-9_]*)*)"
    r":(?P<function>[A-Za-z_][A-Za-z0-9_]*)$"
)
"""A repository block's step as pipeline.json names it: ``<package>.<module>:<function>``."""

CALLABLE_SHAPE = "constellation_repo_<namespace>_<12 hex digits>.<module>:<function>"


@dataclass(frozen=True)
class RepoBlockType:
    """One repository block type a pipeline uses: its step function's path, and its manifest's secrets."""

    callable: str
    secrets: tuple[tuple[str, str | None], ...] = ()
    """(secret name, config field naming its env var, or None), as the manifest declares them."""


def parse(raw: Mapping[str, Any] | None) -> dict[str, RepoBlockType]:
    """pipeline.json's ``repo_block_types`` (already checked by pipeline_checks), by type ref."""
    return {
        block_type: RepoBlockType(
            entry["callable"],
            tuple((secret["name"], secret.get("config_field")) for secret in entry.get("secrets") or []),
        )
        for block_type, entry in (raw or {}).items()
    }


def resolve(path: str) -> Callable[..., Any]:
    """The function ``path`` (``<package>.<module>:<function>``) names, imported; refuses any other package."""
    match = CALLABLE.match(path)
    if not match:
        raise ValueError(f'"{path}" is not a repository block callable; it must look like "{CALLABLE_SHAPE}".')
    module_name = match["package"] + match["modules"]
    function = getattr(importlib.import_module(module_name), match["function"], None)
    if not callable(function):
        raise ValueError(f'"{path}": module {module_name} has no function {match["function"]}.')
    return function


def secret(block: Block, name: str) -> str:
    """The value of the manifest secret ``name`` for ``block``, read from the environment now.

    The environment variable is the one the block's config names in the secret's ``config_field``
    (when the manifest gives one and the config sets it), else ``name`` itself.
    """
    declared = dict(block.secrets)
    if name not in declared:
        known = ", ".join(sorted(declared)) or "none"
        raise LookupError(
            f'block "{block.id}" ({block.type}) has no secret "{name}" (its manifest declares: {known}); '
            "add it to the manifest's secrets."
        )
    field = declared[name]
    variable = block.config.get(field) if field else None
    if not variable:
        variable = name
    if not isinstance(variable, str):
        raise ValueError(f'block "{block.id}": config.{field} must name an environment variable, got {variable!r}.')
    value = os.environ.get(variable)
    if value is None:
        where = f" (named by config.{field})" if field and block.config.get(field) else ""
        raise LookupError(
            f'block "{block.id}" ({block.type}) needs the environment variable {variable}{where} for its secret '
            f"{name}; set it in the environment that runs the pipeline."
        )
    return value
