"""How long check_shard takes on shards of 1, 10 and 100 pipelines: one-shot, and warm (--serve).

    cd blocks/python && PYTHONPATH=$PWD ../../.venv/bin/python tests/measure_check_shard.py

Not a test (pytest collects test_*.py only): it prints timings, and asserts only that every check
answers ok.
"""

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from shards import pipeline, write_shard  # noqa: E402

SIZES = (1, 10, 100)
WARM_REPEATS = 5


def main() -> None:
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parents[1])}
    command = [sys.executable, "-m", "constellation_blocks.check_shard"]
    with tempfile.TemporaryDirectory() as tmp:
        projects = {
            n: write_shard(
                Path(tmp) / f"n{n}", f"local_shard_{n}",
                {f"p{i}": pipeline(f"p{i}", duckdb_path=f"/tmp/p{i}.duckdb") for i in range(n)},
            )
            for n in SIZES
        }
        server = subprocess.Popen(
            [*command, "--serve"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env
        )

        def ask(project: Path) -> float:
            start = time.perf_counter()
            server.stdin.write(f"{project}\n")
            server.stdin.flush()
            answer = json.loads(server.stdout.readline())
            assert answer["ok"], answer
            return time.perf_counter() - start

        ask(projects[1])  # imports Dagster and the block library once
        for n, project in projects.items():
            start = time.perf_counter()
            one_shot = subprocess.run([*command, str(project)], capture_output=True, text=True, env=env)
            cold = time.perf_counter() - start
            assert json.loads(one_shot.stdout)["ok"], one_shot.stdout + one_shot.stderr
            first = ask(project)
            warm = [ask(project) for _ in range(WARM_REPEATS)]
            print(
                f"{n:>4} pipelines: one-shot {cold:.2f} s; served first {first:.3f} s, "
                f"then median {statistics.median(warm):.3f} s (min {min(warm):.3f}, max {max(warm):.3f})"
            )
        server.stdin.close()
        server.wait()


if __name__ == "__main__":
    main()
