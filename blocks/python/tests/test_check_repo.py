"""check_repo run as the service runs it: a subprocess of the environment's Python, one JSON line out."""

import json
import subprocess
import sys
from importlib import metadata
from pathlib import Path

from constellation_blocks.repo_check_requirements import check_line
from repo_packages import greeting, write_package

LIBRARY = Path(__file__).resolve().parents[1]
TABLE = {"type": "table", "multiple": False}


def run_check(tmp_path: Path, request: dict, memory_mb: int = 1024) -> subprocess.CompletedProcess:
    path = tmp_path / "request.json"
    path.write_text(json.dumps(request))
    return subprocess.run(
        [sys.executable, "-m", "constellation_blocks.check_repo", "--memory-mb", str(memory_mb), str(path)],
        capture_output=True, text=True, timeout=120, cwd=tmp_path, env={"PYTHONPATH": str(LIBRARY), "PATH": "/usr/bin:/bin"},
    )


def block(name: str, callable_: str, inputs: dict[str, dict] | None = None) -> dict:
    return {
        "name": name, "type": f"etl_blocks__{name}@1", "callable": callable_,
        "inputs": [{"name": port, **spec} for port, spec in (inputs or {}).items()],
        "outputs": [{"name": "rows", "type": "table"}], "config": {"names": ["Ada"], "greeting_env": "GREETING_TEXT"},
    }


def test_each_block_and_requirement_gets_its_verdict_and_stdout_is_one_json_line(tmp_path):
    package = write_package(tmp_path / "repo", "3f2a9c1d0e4b", {
        "greeting.py": greeting(),
        "broken.py": '"""Imports a library the environment lacks."""\n\nimport nonexistent_lib\n',
        "hog.py": "BUFFER = bytearray(2 * 1024 ** 3)\n",
        "typo.py": "def f(context, block:\n    pass\n",
        "helpers/__init__.py": "",
        "helpers/io.py": "from ..greeting import WORD  # a sibling module, imported relatively\n\n\ndef load(context, block, *, tables):\n    return tables\n",
    })
    pyarrow = metadata.version("pyarrow")
    request = {
        "root": str(tmp_path / "repo"),
        "package": package,
        "requirements": [
            "pyarrow>=20", "# the comment and the blank line get no entry", "", "pyarrow<1  # too old",
            "nonexistent-lib==1.0", "-r other.txt", "--index-url https://pypi.example.com/simple", "-e .",
            "thing @ https://example.com/thing.whl", "pandas>=1; python_version < '3'",
        ],
        "blocks": [
            block("hog", "hog:f"),  # first: the blocks after it still get checked
            block("greeting_rows", "greeting:make_rows"),
            block("shout", "greeting:shout", {"rows": TABLE}),
            block("load", "helpers.io:load", {"tables": {"type": "table", "multiple": True}}),
            block("broken", "broken:f"),
            block("no_ports", "greeting:no_ports", {"rows": TABLE}),
            block("missing_function", "greeting:nothing_here"),
            block("missing_module", "nowhere:f"),
            block("typo", "typo:f"),
            block("not_a_callable", "greeting.make_rows"),
        ],
    }
    result = run_check(tmp_path, request)
    assert result.returncode == 0, result.stderr
    assert result.stdout.count("\n") == 1, result.stdout
    assert "greeting imported" in result.stderr  # the module's print went to stderr
    answer = json.loads(result.stdout)

    assert answer["requirements"] == [
        {"line": "pyarrow>=20", "ok": True},
        {"line": "pyarrow<1  # too old", "ok": False, "error": f"pyarrow<1 is not satisfied: the environment has pyarrow {pyarrow}."},
        {"line": "nonexistent-lib==1.0", "ok": False,
         "error": "nonexistent-lib==1.0 is not satisfied: nonexistent-lib is not installed in the environment that runs pipelines."},
        *({"line": line, "ok": False, "error": f"{line} is refused: requirements.txt may hold only a package name with an optional "
           "version (name, name==1.2.3, name>=1,<2), no options, -r includes or editable installs."}
          for line in ("-r other.txt", "--index-url https://pypi.example.com/simple", "-e .")),
        {"line": "thing @ https://example.com/thing.whl", "ok": False,
         "error": "thing @ https://example.com/thing.whl is refused: requirements.txt may not name URLs; name a package installed in the environment."},
        {"line": "pandas>=1; python_version < '3'", "ok": True},  # not meant for this Python
    ]
    shape = "its signature must be (context, block, **ports) or name each input port"
    assert answer["blocks"] == [
        {"name": "hog", "ok": False, "error": "python/hog.py line 1: MemoryError: it allocates more than the 1024 MB "
         "the check allows (Dagster and the block library included)."},
        {"name": "greeting_rows", "ok": True},
        {"name": "shout", "ok": True},
        {"name": "load", "ok": True},
        {"name": "broken", "ok": False, "error": "python/broken.py line 3: ModuleNotFoundError: No module named 'nonexistent_lib'."},
        {"name": "no_ports", "ok": False, "error": f'greeting:no_ports takes no parameter "rows" for its input port rows; {shape}.'},
        {"name": "missing_function", "ok": False, "error": "greeting:nothing_here: python/greeting.py has no function nothing_here."},
        {"name": "missing_module", "ok": False,
         "error": "nowhere:f: there is no module nowhere under python/ (python/nowhere.py or python/nowhere/__init__.py)."},
        {"name": "typo", "ok": False, "error": "python/typo.py line 1: SyntaxError: '(' was never closed (typo.py, line 1)."},
        {"name": "not_a_callable", "ok": False, "error": "python.callable 'greeting.make_rows' must be \"module:function\", "
         'the module relative to python/ (e.g. "greeting:make_rows").'},
    ]


def test_a_signature_that_cannot_take_context_and_block_is_named(tmp_path):
    package = write_package(tmp_path, "0123456789ab", {"odd.py": "def one(context):\n    pass\n\n\ndef extra(context, block, rows, limit):\n    pass\n"})
    request = {"root": str(tmp_path), "package": package, "requirements": [], "blocks": [
        block("one", "odd:one"), block("extra", "odd:extra", {"rows": TABLE}),
    ]}
    result = run_check(tmp_path, request)
    assert result.returncode == 0, result.stderr
    shape = "its signature must be (context, block, **ports) or name each input port"
    assert json.loads(result.stdout)["blocks"] == [
        {"name": "one", "ok": False, "error": f"odd:one cannot be called as (context, block): too many positional arguments; {shape}."},
        {"name": "extra", "ok": False,
         "error": f"odd:extra cannot be called as (context, block, rows=...): missing a required argument: 'limit'; {shape}."},
    ]


def test_a_request_that_is_not_one_exits_2_naming_what_it_lacks(tmp_path):
    result = run_check(tmp_path, {"root": str(tmp_path), "blocks": []})
    assert result.returncode == 2 and result.stdout == ""
    assert "lacks or mistypes package, requirements" in result.stderr


def test_requirement_lines_in_process():
    dagster = metadata.version("dagster")
    assert check_line(f"dagster=={dagster}") == {"line": f"dagster=={dagster}", "ok": True}
    assert check_line("Dagster[test]>=1,<99") == {"line": "Dagster[test]>=1,<99", "ok": True}  # names normalize
    assert check_line("dagster>=>1")["error"].startswith("dagster>=>1 is not a valid requirement (Expected ")
    assert check_line("thing @ file:thing.whl")["error"] == (
        "thing @ file:thing.whl is refused: requirements.txt may not hold direct references; name a package installed in the environment."
    )


def test_a_thread_left_running_by_a_module_does_not_keep_the_check_alive(tmp_path):
    package = write_package(tmp_path, "0123456789ab", {
        "busy.py": "import threading, time\n\nthreading.Thread(target=time.sleep, args=(600,)).start()\n\n\ndef f(context, block):\n    pass\n",
    })
    result = run_check(tmp_path, {"root": str(tmp_path), "package": package, "requirements": [], "blocks": [block("busy", "busy:f")]})
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["blocks"] == [{"name": "busy", "ok": True}]
