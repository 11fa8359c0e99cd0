"""Whether each block of a code repository imports, has a step function of the right shape, and loads in Dagster.

Per block: import ``<package>.<module>`` (the repository's ``python/`` folder is the package, its
parent first on sys.path), take the function, check that ``(context, block, **ports)`` binds to it
for the manifest's input ports, then build its asset exactly as a pipeline does — a one-block
format-2 pipeline whose ``repo_block_types`` names the function, through ``component.single_asset``
— and have Dagster validate it. Every problem becomes that block's error, one sentence naming the
file and line or the function; one block failing never stops the others.
"""

import importlib
import inspect
import re
import sys
import traceback
from collections.abc import Mapping
from pathlib import Path
from types import ModuleType
from typing import Any

import dagster as dg

from constellation_blocks import repo_blocks, table_io
from constellation_blocks.building import BlockContext
from constellation_blocks.component import single_asset
from constellation_blocks.pipeline import Pipeline

_RELATIVE_CALLABLE = re.compile(r"^(?P<module>[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*):(?P<function>[A-Za-z_][A-Za-z0-9_]*)$")
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_SHAPE = "its signature must be (context, block, **ports) or name each input port"
_KEYWORD_KINDS = (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)


class BlockProblem(Exception):
    """What is wrong with one block, as the sentence its author reads."""


class BlockChecker:
    """Checks the blocks of one repository package, importing each of its modules once."""

    def __init__(self, root: Path, package: str, memory_mb: int | None = None):
        self._root = root.resolve()
        self._package = package
        self._memory_mb = memory_mb
        self._imports: dict[str, ModuleType | BlockProblem] = {}
        sys.path.insert(0, str(self._root))
        importlib.invalidate_caches()

    def check(self, block: Mapping[str, Any]) -> dict[str, Any]:
        """``{"name", "ok": true}`` or ``{"name", "ok": false, "error"}`` for one block of the request."""
        name = block.get("name")
        try:
            self._check(block)
        except BlockProblem as problem:
            return {"name": name, "ok": False, "error": str(problem)}
        except MemoryError:
            return {"name": name, "ok": False, "error": f"{block.get('callable')}: {self._over_memory()} while its pipeline was built."}
        except Exception as error:  # noqa: BLE001 - anything else is still this block's error, not the check's
            return {
                "name": name,
                "ok": False,
                "error": f"{block.get('callable')}: a one-block pipeline of it does not load in Dagster ({_one_line(error)}).",
            }
        return {"name": name, "ok": True}

    def _check(self, block: Mapping[str, Any]) -> None:
        if not repo_blocks.PACKAGE.match(self._package):
            raise BlockProblem(f'the package name "{self._package}" is not constellation_repo_<namespace>_<12 hex digits>.')
        text = block.get("callable")
        match = _RELATIVE_CALLABLE.match(text) if isinstance(text, str) else None
        if not match:
            raise BlockProblem(
                f'python.callable {text!r} must be "module:function", the module relative to python/ (e.g. "greeting:make_rows").'
            )
        module = self._import(text, match["module"])
        function = getattr(module, match["function"], None)
        if function is None:
            raise BlockProblem(f"{text}: {_file_of(match['module'])} has no function {match['function']}.")
        if not callable(function):
            raise BlockProblem(f"{text}: {match['function']} in {_file_of(match['module'])} is not a function.")
        ports = [port["name"] for port in block.get("inputs") or []]
        _check_signature(text, function, ports)
        _validate(self._one_block_pipeline(block, f"{self._package}.{match['module']}:{match['function']}", ports))

    def _import(self, text: str, module: str) -> ModuleType:
        if module not in self._imports:
            try:
                self._imports[module] = importlib.import_module(f"{self._package}.{module}")
            except (Exception, SystemExit) as error:  # noqa: BLE001 - SystemExit too: a module calling exit() is its error
                self._imports[module] = BlockProblem(self._import_problem(text, module, error))
        imported = self._imports[module]
        if isinstance(imported, BlockProblem):
            raise imported
        return imported

    def _import_problem(self, text: str, module: str, error: BaseException) -> str:
        full = f"{self._package}.{module}"
        if isinstance(error, ModuleNotFoundError) and error.name and (full == error.name or full.startswith(f"{error.name}.")):
            return f"{text}: there is no module {module} under python/ ({_file_of(module)} or python/{module.replace('.', '/')}/__init__.py)."
        message = self._over_memory() if isinstance(error, MemoryError) else _one_line(error)
        where = self._where(error)
        return f"{where}: {message}." if where else f"{text}: importing {module} failed: {message}."

    def _where(self, error: BaseException) -> str | None:
        """``python/<file> line <n>``: the innermost place in the repository's code the error comes from."""
        package_dir = self._root / self._package
        places = [(frame.filename, frame.lineno) for frame in traceback.extract_tb(error.__traceback__)]
        if isinstance(error, SyntaxError) and error.filename:
            places.append((error.filename, error.lineno))
        for filename, lineno in reversed(places):
            try:
                relative = Path(filename).resolve().relative_to(package_dir)
            except ValueError:
                continue
            return f"python/{relative.as_posix()} line {lineno}"
        return None

    def _over_memory(self) -> str:
        limit = f"the {self._memory_mb} MB" if self._memory_mb else "the memory"
        return f"MemoryError: it allocates more than {limit} the check allows (Dagster and the block library included)"

    def _one_block_pipeline(self, block: Mapping[str, Any], step: str, ports: list[str]) -> BlockContext:
        """The block alone in a format-2 pipeline, each input port fed by a stand-in upstream block."""
        block_id = block["name"] if isinstance(block.get("name"), str) and _NAME.match(block["name"]) else "block"
        block_type = block.get("type")
        multiple = {port["name"]: bool(port.get("multiple")) for port in block.get("inputs") or []}
        upstream = {port: f"upstream_{index}" for index, port in enumerate(ports)}

        def entry(type_: str, config: Mapping[str, Any], inputs: list[dict], downstream: list[str]) -> dict[str, Any]:
            return {
                "type": type_, "name": None, "description": None, "config": dict(config), "retry_policy": None,
                "downstream": downstream, "inputs": inputs, "resource_key": None,
            }

        # The stand-ins are never built (their assets are source specs, see _validate); they only
        # give the ports their upstream keys, so they may as well be of the block's own type.
        blocks = {stand_in: entry(block_type, {}, [], [block_id]) for stand_in in upstream.values()}
        blocks[block_id] = entry(
            block_type,
            block.get("config") or {},
            [{"port": port, "upstream": [upstream[port]], "multiple": multiple[port]} for port in ports],
            [],
        )
        data = {
            "format": 2,
            "pipeline": {"id": "repo_check", "name": f"Check of {block_id}", "description": None, "version": 1, "slug": "repo_check", "org": "repo_check"},
            "namespace": {"asset_key_prefix": ["repo_check"], "group": "repo_check"},
            "repo_block_types": {block_type: {"callable": step, "secrets": list(block.get("secrets") or [])}},
            "blocks": blocks,
            "jobs": {"check": {"name": "repo_check", "blocks": [block_id], "description": None}},
            "schedules": {},
            "sensors": {},
            "partitions": None,
            "run_tags": {},
        }
        return BlockContext(Pipeline(data, source=f"the one-block pipeline of {block_id}"), block_id, {}, {})


def _check_signature(text: str, function: Any, ports: list[str]) -> None:
    """``function(context, block, **{port: ...})`` binds, as step_asset will call it."""
    try:
        signature = inspect.signature(function)
    except (TypeError, ValueError) as error:
        raise BlockProblem(f"{text} has no signature Python can read ({error}); {_SHAPE}.") from None
    parameters = signature.parameters.values()
    takes_any = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters)
    for port in ports:
        parameter = signature.parameters.get(port)
        if not takes_any and (parameter is None or parameter.kind not in _KEYWORD_KINDS):
            raise BlockProblem(f'{text} takes no parameter "{port}" for its input port {port}; {_SHAPE}.')
    try:
        signature.bind(None, None, **dict.fromkeys(ports))
    except TypeError as error:
        call = ", ".join(["context", "block", *(f"{port}=..." for port in ports)])
        raise BlockProblem(f"{text} cannot be called as ({call}): {error}; {_SHAPE}.") from None


def _validate(ctx: BlockContext) -> None:
    """Builds the block's asset through the component's code path and has Dagster check it loads."""
    built = single_asset(ctx)
    upstream = [ctx.pipeline.asset_key(u) for port in ctx.pipeline.inputs(ctx.block_id) for u in port.upstream]
    defs = dg.Definitions(
        assets=[*built.assets, *(dg.AssetSpec(key) for key in dict.fromkeys(upstream))],
        jobs=[ctx.pipeline.asset_job(job_id, {ctx.block_id: built}) for job_id in ctx.pipeline.job_ids],
        resources={"io_manager": table_io.io_manager_from_env()},
    )
    dg.Definitions.validate_loadable(defs)


def _file_of(module: str) -> str:
    return f"python/{module.replace('.', '/')}.py"


def _one_line(error: BaseException) -> str:
    text = " ".join(str(error).split())
    return f"{type(error).__name__}: {text}" if text else type(error).__name__
