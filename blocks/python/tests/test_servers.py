"""The test servers are stopped whatever ends the process that started them."""

import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

TESTS = Path(__file__).parent
START = f"""
import sys
sys.path.insert(0, {str(TESTS)!r})
from servers import ClickHouseServer
server = ClickHouseServer()
print("up", flush=True)
if sys.stdin.readline().strip() == "fail":
    raise RuntimeError("the next set-up step failed")
"""


def _clickhouse_under(folder: Path) -> list[int]:
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            cmdline = (proc / "cmdline").read_bytes().decode(errors="replace")
            state = (proc / "stat").read_text().rsplit(") ", 1)[1][0]
        except (OSError, IndexError):
            continue
        if "clickhouse-server" in cmdline and str(folder) in cmdline and state != "Z":
            found.append(int(proc.name))
    return found


def _until(read, done, seconds: float):
    deadline = time.monotonic() + seconds
    value = read()
    while not done(value) and time.monotonic() < deadline:
        time.sleep(0.1)
        value = read()
    return value


@pytest.mark.parametrize("end", ["fail", signal.SIGTERM, signal.SIGKILL])
def test_a_clickhouse_server_does_not_outlive_its_test_process(tmp_path, end):
    """A set-up that fails after the server started, a SIGTERM, a SIGKILL: no server is left."""
    child = subprocess.Popen(
        [sys.executable, "-c", START],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env={"TMPDIR": str(tmp_path), "PATH": "/usr/bin:/bin:/usr/sbin:/sbin"},
    )
    assert child.stdout.readline().strip() == "up"
    assert len(_clickhouse_under(tmp_path)) == 1
    if end == "fail":
        child.stdin.write("fail\n")
        child.stdin.flush()
    else:
        child.send_signal(end)
    child.wait(timeout=30)
    assert _until(lambda: _clickhouse_under(tmp_path), lambda pids: not pids, 10) == []
    assert _until(lambda: [p for p in tmp_path.iterdir() if p.name.startswith("constellation-ch-")], lambda left: not left, 5) == []
