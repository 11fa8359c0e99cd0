"""Checks a code repository's block types in the environment that will run them (docs/code-repositories.md).

    python -m constellation_blocks.check_repo --memory-mb 1024 <request.json>

The service runs this in the target environment's Python, in a subprocess with its own wall-clock
timeout, on a request such as::

    {"root": "/abs/dir holding the package folder", "package": "constellation_repo_etl_blocks_3f2a9c1d0e4b",
     "requirements": ["pyarrow>=20"],
     "blocks": [{"name": "greeting_rows", "type": "etl_blocks__greeting_rows@1", "callable": "greeting:make_rows",
                 "inputs": [{"name": "rows", "type": "table", "multiple": false}],
                 "outputs": [{"name": "rows", "type": "table"}], "config": {...defaults filled in...}}]}

and prints one JSON line, ``{"requirements": [{"line", "ok", "error"?}], "blocks": [{"name", "ok",
"error"?}]}``, with an entry for every requirement line (blank and comment lines have none) and
every block; exit status 0. A request that is not such JSON exits 2 with the reason on stderr.

The memory limit is the process's address space (RLIMIT_AS), set as soon as this module runs:
after Dagster and the block library are imported (about 380 MB of it), before any repository
code. A module allocating beyond it fails with MemoryError, reported as its blocks' error. Only the
answer goes to stdout: file descriptor 1 is pointed at stderr while repository code runs, so
neither its prints nor a C library's writes can corrupt the answer.
"""

import argparse
import json
import os
import resource
import sys
from pathlib import Path
from typing import Any

from constellation_blocks.repo_check_blocks import BlockChecker
from constellation_blocks.repo_check_requirements import check_line


def limit_memory(megabytes: int) -> None:
    """Caps the process's address space, so an allocation past it raises MemoryError."""
    limit = megabytes * 1024 * 1024
    _, hard = resource.getrlimit(resource.RLIMIT_AS)
    if hard != resource.RLIM_INFINITY:
        limit = min(limit, hard)
    resource.setrlimit(resource.RLIMIT_AS, (limit, hard))


def check(request: dict[str, Any], memory_mb: int | None = None) -> dict[str, Any]:
    """The answer for one request: each requirement line's and each block's verdict."""
    # Requirements first: they read the environment's installed distributions, before the
    # repository's folder is on sys.path (its files must not pass for installed packages).
    lines = [line for line in request["requirements"] if line.split("#", 1)[0].strip()]
    requirements = [check_line(line) for line in lines]
    checker = BlockChecker(Path(request["root"]), request["package"], memory_mb)
    return {"requirements": requirements, "blocks": [checker.check(block) for block in request["blocks"]]}


def _read_request(path: str) -> dict[str, Any]:
    try:
        request = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise ValueError(f"check_repo: cannot read the request {path}: {error}") from None
    problems = [
        key
        for key, kind in (("root", str), ("package", str), ("requirements", list), ("blocks", list))
        if not isinstance(request.get(key) if isinstance(request, dict) else None, kind)
    ]
    if not problems:
        problems += ["requirements[]"] if not all(isinstance(line, str) for line in request["requirements"]) else []
        problems += ["blocks[]"] if not all(isinstance(block, dict) for block in request["blocks"]) else []
    if problems:
        raise ValueError(f"check_repo: the request {path} lacks or mistypes {', '.join(problems)}.")
    return request


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m constellation_blocks.check_repo", description=__doc__.split("\n")[0])
    parser.add_argument("--memory-mb", type=int, required=True, help="the address space the check may use, in MB")
    parser.add_argument("request", help="the request JSON file")
    args = parser.parse_args(argv)
    limit_memory(args.memory_mb)
    try:
        request = _read_request(args.request)
    except ValueError as error:
        print(error, file=sys.stderr)
        return 2
    answers = os.fdopen(os.dup(1), "w", encoding="utf-8")
    sys.stdout.flush()
    os.dup2(2, 1)
    answer = check(request, args.memory_mb)
    answers.write(json.dumps(answer) + "\n")
    answers.flush()
    return 0


if __name__ == "__main__":
    status = main()
    sys.stdout.flush()  # what repository code printed: fd 1 is stderr by now
    sys.stderr.flush()
    # Not sys.exit: a thread a repository module started and never stops would keep the process
    # alive until the service's timeout, after the answer is out.
    os._exit(status)
