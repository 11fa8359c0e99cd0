"""Parses a dbt project into the manifest the dbt blocks load, for the deploy.

``python -m constellation_blocks.dbt_parse PROJECT_DIR OUT [--profiles-dir DIR] [--target T] [--vars JSON]``
runs ``dbt parse`` (dbt's own runner, in this process) with its artifacts in a scratch folder, so
the project folder is only read, and writes the manifest to OUT. The last line of stdout is the
answer: ``{"ok": true}`` or ``{"ok": false, "error": "<dbt's message>"}``.

The manifest written leaves out the bodies of macros and docs blocks: they are 95% of the file
(560 of 590 KB for the fixture project, whatever its size, since dbt's own macros are in it),
and dagster-dbt reads only nodes, sources, the dependency maps and metadata. Each deployed
pipeline keeps its own copy, so a shard of a hundred pipelines on one project would otherwise
carry 60 MB of macros.
"""

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

# Set before dbt is imported: it reads them once.
os.environ.setdefault("DBT_SEND_ANONYMOUS_USAGE_STATS", "false")

_DROPPED = ("macros", "docs")


class DbtParseError(Exception):
    """dbt could not parse the project; the message is dbt's."""


def parse(project_dir: str, out: Path, *, profiles_dir: str | None = None, target: str | None = None, vars: dict | None = None) -> None:
    """Parses ``project_dir`` and writes its manifest (without macro and doc bodies) to ``out``."""
    from dbt.cli.main import dbtRunner

    if not (Path(project_dir) / "dbt_project.yml").is_file():
        raise DbtParseError(f"{project_dir} holds no dbt_project.yml")
    with tempfile.TemporaryDirectory(prefix="dbt-parse-") as scratch:
        args = ["parse", "--project-dir", project_dir, "--target-path", scratch, "--log-path", scratch, "--log-level", "none"]
        # As dbt run in the project folder (the way dagster-dbt runs it) looks: there, then ~/.dbt.
        if not profiles_dir and (Path(project_dir) / "profiles.yml").is_file():
            profiles_dir = project_dir
        if profiles_dir:
            args += ["--profiles-dir", profiles_dir]
        if target:
            args += ["--target", target]
        if vars:
            args += ["--vars", json.dumps(vars, sort_keys=True)]
        result = dbtRunner().invoke(args)
        if not result.success:
            raise DbtParseError(_message(result.exception) or "dbt parse failed without saying why")
        manifest = json.loads((Path(scratch) / "manifest.json").read_text(encoding="utf-8"))
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(trimmed(manifest), sort_keys=True), encoding="utf-8")


def trimmed(manifest: dict[str, Any]) -> dict[str, Any]:
    """The manifest with the bodies of macros and docs left out (their keys stay, empty)."""
    return {**manifest, **{key: {} for key in _DROPPED if key in manifest}}


def _message(error: BaseException | None) -> str:
    return " ".join(str(error).split()) if error else ""


def main(argv: list[str] | None = None) -> int:
    """The command line: parses, answers one JSON line, exits 0 when the manifest is written."""
    cli = argparse.ArgumentParser(prog="constellation_blocks.dbt_parse")
    cli.add_argument("project_dir")
    cli.add_argument("out", type=Path)
    cli.add_argument("--profiles-dir")
    cli.add_argument("--target")
    cli.add_argument("--vars", type=json.loads)
    options = cli.parse_args(argv)
    try:
        parse(options.project_dir, options.out, profiles_dir=options.profiles_dir, target=options.target, vars=options.vars)
    except DbtParseError as error:
        print(json.dumps({"ok": False, "error": str(error)}))
        return 1
    print(json.dumps({"ok": True}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
