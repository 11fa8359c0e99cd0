"""Checks that a shard project loads in Dagster, and lists what it defines.

    python -m constellation_blocks.check_shard <project_dir>   one check, one JSON line
    python -m constellation_blocks.check_shard --serve         one project dir per stdin line,
                                                               one JSON line per request, stays up

Every answer is ``{"ok": true, "definitions": {"assets", "asset_checks", "jobs", "schedules",
"sensors"}}`` or ``{"ok": false, "error": "..."}``, with exit status 0 either way; a non-zero exit
means the checker itself crashed. Deploy runs it on a staged copy of a shard before swapping it
in: one pipeline that fails to load takes its whole location down, so it must be refused first.

The project is loaded as a code server loads the workspace entry ``python_module: {module_name:
<root>.definitions, working_directory: <project_dir>}``: through Dagster's own
``LoadedRepositories`` (a private API, so this module follows the pinned Dagster version), under
the same error boundary, with every definition resolved. The error reported is Dagster's, without
the wrapper that only says "Error occurred during the loading of Dagster definitions", followed by
the exceptions that caused it. The project's root is on sys.path while it loads (Dagster puts the
working directory there), which is how the code repositories' packages beside the root module
(``<project>/constellation_repo_*``) are imported.

A served check imports the shard afresh each time (its modules are dropped from ``sys.modules``
before and after), while Dagster and the block library stay imported: that is what makes a warm
check fast. Only answers go to stdout; anything printed while loading goes to stderr.
"""

import argparse
import contextlib
import importlib
import json
import sys
import tomllib
from pathlib import Path
from typing import Any, TextIO

from constellation_blocks import repo_blocks

IMPLICIT_JOB_PREFIX = "__ASSET_JOB"
"""Dagster's own job over all assets of a location (not one the spec declares)."""


def check(project_dir: str | Path) -> dict[str, Any]:
    """The answer for one shard project: its definitions, or Dagster's load error."""
    project = Path(project_dir).resolve()
    try:
        root = root_module(project)
    except ValueError as error:
        return {"ok": False, "error": str(error)}
    try:
        with contextlib.redirect_stdout(sys.stderr):
            repository = load(project)
    except Exception as error:  # noqa: BLE001 - any failure to load is the answer, not a crash
        return {"ok": False, "error": describe(error)}
    finally:
        _forget(root)
    return {"ok": True, "definitions": _listing(repository)}


def root_module(project: Path) -> str:
    """The project's root module, from ``[tool.dg.project] root_module`` in its pyproject.toml."""
    pyproject = project / "pyproject.toml"
    try:
        settings = tomllib.loads(pyproject.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ValueError(f"{pyproject}: not found; a shard project has a pyproject.toml") from None
    except tomllib.TOMLDecodeError as error:
        raise ValueError(f"{pyproject}: not valid TOML ({error})") from None
    root = settings.get("tool", {}).get("dg", {}).get("project", {}).get("root_module")
    if not isinstance(root, str) or not root.isidentifier():
        raise ValueError(f"{pyproject}: tool.dg.project.root_module must name the project's package, got {root!r}")
    return root


def describe(error: BaseException) -> str:
    """The error's message and those of its causes, outermost first, Dagster's load wrapper dropped."""
    from dagster._core.errors import DagsterUserCodeLoadError

    while isinstance(error, DagsterUserCodeLoadError) and _cause(error) is not None:
        error = _cause(error)
    lines = []
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        text = f"{type(current).__name__}: {current}".rstrip()
        # Dagster re-raises some errors wrapped in a copy of themselves; say each once.
        if not lines or not lines[-1].endswith(text):
            lines.append(text if not lines else f"Caused by {text}")
        current = _cause(current)
    return "\n".join(lines)


def _cause(error: BaseException) -> BaseException | None:
    return error.__cause__ or (None if error.__suppress_context__ else error.__context__)


def load(project_dir: str | Path):
    """The shard's ``RepositoryDefinition``, loaded and fully resolved as a Dagster code server does it.

    Raises what the code server would (``DagsterUserCodeLoadError`` wrapping the cause) or
    ``ValueError`` for a project without a root module. The shard's modules stay imported until
    the next load of a project with the same root module.
    """
    from dagster._core.definitions.definitions_load_context import DefinitionsLoadContext, DefinitionsLoadType
    from dagster._core.origin import get_python_environment_entry_point
    from dagster._core.types.loadable_target_origin import LoadableTargetOrigin
    from dagster._grpc.server import LoadedRepositories

    project = Path(project_dir).resolve()
    root = root_module(project)
    _forget(root)
    # Files may have changed since the last check within the same second: drop the import
    # system's cached directory listings so that new or renamed files are seen.
    importlib.invalidate_caches()
    origin = LoadableTargetOrigin(
        executable_path=sys.executable, module_name=f"{root}.definitions", working_directory=str(project)
    )
    # No __pycache__ written into the project: a check leaves the (staged) shard as it found it.
    writes_bytecode, sys.dont_write_bytecode = sys.dont_write_bytecode, True
    try:
        # LoadedRepositories installs a process-wide load context; scoped() puts the caller's back.
        with DefinitionsLoadContext.scoped(DefinitionsLoadContext(load_type=DefinitionsLoadType.INITIALIZATION)):
            loaded = LoadedRepositories(
                origin, container_image=None, entry_point=get_python_environment_entry_point(sys.executable), container_context=None
            )
    finally:
        sys.dont_write_bytecode = writes_bytecode
    [repository] = loaded.definitions_by_name.values()
    return repository


def _forget(root: str) -> None:
    """Drops the shard's modules, so that the next import reads its files again.

    Code repositories' packages (``constellation_repo_*``, beside the root module at the project's
    root) go too: left imported, a shard lacking a package folder its pipelines name would pass.
    """
    tops = {name: name.split(".")[0] for name in sys.modules}
    for name, top in tops.items():
        if top == root or repo_blocks.PACKAGE.match(top):
            del sys.modules[name]


def _listing(repository) -> dict[str, Any]:
    graph = repository.asset_graph
    return {
        "assets": sorted(list(key.path) for key in graph.get_all_asset_keys()),
        "asset_checks": sorted(
            ({"asset": list(key.asset_key.path), "name": key.name} for key in graph.asset_check_keys),
            key=lambda check_key: (check_key["asset"], check_key["name"]),
        ),
        "jobs": sorted(job.name for job in repository.get_all_jobs() if not job.name.startswith(IMPLICIT_JOB_PREFIX)),
        "schedules": sorted(schedule.name for schedule in repository.schedule_defs),
        "sensors": sorted(sensor.name for sensor in repository.sensor_defs),
    }


def serve(requests: TextIO, answers: TextIO) -> None:
    """Answers one check per line of ``requests`` (a project dir) until it ends."""
    for line in requests:
        project_dir = line.strip()
        if project_dir:
            _answer(answers, check(project_dir))


def _answer(answers: TextIO, answer: dict[str, Any]) -> None:
    answers.write(json.dumps(answer) + "\n")
    answers.flush()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m constellation_blocks.check_shard", description=__doc__.split("\n")[0])
    parser.add_argument("project_dir", nargs="?", help="the shard project to check once")
    parser.add_argument("--serve", action="store_true", help="check the project dir on each line of stdin")
    args = parser.parse_args(argv)
    if args.serve == (args.project_dir is not None):
        parser.error("give either a project dir or --serve")
    answers = sys.stdout
    if args.serve:
        serve(sys.stdin, answers)
    else:
        _answer(answers, check(args.project_dir))
    return 0


if __name__ == "__main__":
    sys.exit(main())
