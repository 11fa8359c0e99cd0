"""Loads many compiled code locations in one Python process, as `dagster definitions validate` does.

Usage: validate_locations.py DIR — every subfolder of DIR holding a definitions.py is one location.
Prints one JSON line per location, in name order, on stdout:
    {"location": NAME, "ok": true|false, "error": MESSAGE|null, "trace": TEXT|null}

Starting `dagster definitions validate -f` costs about 2 s a location (Python, Dagster's imports,
a temporary instance); a property test loads hundreds. So this runs the command's own steps
(dagster/_cli/definitions.py, definitions_validate_command_impl) once per location inside one
process: the same workspace options (-f definitions.py -d its folder), the same in-process load
target, the same check of each code location entry's load_error, the same error unwrapping and
the same asset-graph partition check. test/e2e/validate-locations.test.ts holds it to the CLI's
verdicts. It lives with the tests, not in the block library: deployed locations never need it.
"""

import json
import os
import sys
from pathlib import Path

from dagster_shared.cli import WorkspaceOpts
from dagster_shared.error import remove_system_frames_from_error

from dagster import __version__ as dagster_version
from dagster._cli.utils import get_possibly_temporary_instance_for_cli
from dagster._cli.workspace.cli_target import get_workspace_from_cli_opts
from dagster._utils.error import serializable_error_info_from_exc_info, unwrap_user_code_error

MODULE_NAME = "definitions"
"""Dagster imports python_file targets under their file name; each location's must be fresh."""


def validate(instance, folder: Path) -> dict:
    """The verdict `dagster definitions validate -f definitions.py -d folder` reaches."""
    opts = WorkspaceOpts(python_file=(str(folder / "definitions.py"),), working_directory=str(folder))
    try:
        with get_workspace_from_cli_opts(
            instance=instance, version=dagster_version, workspace_opts=opts, allow_in_process=True
        ) as workspace:
            for entry in workspace.get_code_location_entries().values():
                if entry.load_error:
                    error = remove_system_frames_from_error(unwrap_user_code_error(entry.load_error))
                    return verdict(folder, error)
            try:
                workspace.asset_graph.validate_partitions()
            except Exception:
                return verdict(folder, serializable_error_info_from_exc_info(sys.exc_info()))
            return {"location": folder.name, "ok": True, "error": None, "trace": None}
    finally:
        # Dagster's importer reuses a module already imported from the same path; a location
        # validated twice (or a half-imported one) must be executed afresh.
        sys.modules.pop(MODULE_NAME, None)


def verdict(folder: Path, error) -> dict:
    return {"location": folder.name, "ok": False, "error": error.message.strip(), "trace": error.to_string()}


def main(root: str) -> None:
    # Loading runs user code, which may print; only verdicts may reach the real stdout.
    out = os.fdopen(os.dup(1), "w", encoding="utf-8")
    os.dup2(2, 1)
    os.environ["DAGSTER_IS_DEFS_VALIDATION_CLI"] = "1"
    folders = sorted(p.parent for p in Path(root).glob("*/definitions.py"))
    with get_possibly_temporary_instance_for_cli("validate_locations.py") as instance:
        for folder in folders:
            try:
                result = validate(instance, folder)
            except Exception:
                # Not a verdict the CLI could print; say so rather than call it a load failure.
                error = serializable_error_info_from_exc_info(sys.exc_info())
                result = {"location": folder.name, "ok": False, "error": f"validate_locations.py crashed: {error.message.strip()}", "trace": error.to_string()}
            out.write(json.dumps(result) + "\n")
            out.flush()


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: validate_locations.py DIR  (each DIR/<location>/definitions.py is loaded)")
    main(sys.argv[1])
