"""Code repositories' packages as the compiler lays them out: ``<root>/constellation_repo_<namespace>_<hex12>/``.

``write_package(root, "3f2a9c1d0e4b", {"greeting.py": GREETING})`` writes the package (with an
``__init__.py``) and returns its import name.
"""

from pathlib import Path

GREETING = '''"""A repository block: rows made from its config, a greeting read from a secret."""

import dagster as dg

from constellation_blocks.pipeline import Block
from constellation_blocks.repo_blocks import secret
from constellation_blocks.rows import ExtractedRows

WORD = "{word}"

print("greeting imported")  # a module printing at import: the check's stdout must stay one JSON line


def make_rows(context: dg.AssetExecutionContext, block: Block, **ports) -> ExtractedRows:
    greeting = secret(block, "GREETING")
    rows = [(index, f"{{greeting}} {{WORD}} {{name}}") for index, name in enumerate(block.config["names"], start=1)]
    return ExtractedRows(
        table="greetings", columns=["id", "text"], rows=rows, primary_key=["id"], previous_watermark=None,
        watermark=None, column_types=["bigint", "text"], nullable=[False, False], source=block.id,
    )


def shout(context, block, rows):
    return ExtractedRows(
        table="loud", columns=rows.columns, rows=[(i, text.upper()) for i, text in rows.rows], primary_key=["id"],
        previous_watermark=None, watermark=None, column_types=rows.column_types, nullable=rows.nullable,
    )


def no_ports(context, block):
    return None
'''


def write_package(root: Path, commit: str, files: dict[str, str], namespace: str = "etl_blocks") -> str:
    """Writes ``files`` (path under python/ → text) as the package of ``commit``; returns the package's name."""
    package = f"constellation_repo_{namespace}_{commit}"
    folder = root / package
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "__init__.py").write_text("")
    for name, text in files.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(text)
    return package


def greeting(word: str = "from") -> str:
    """The greeting module, its rows saying ``word``."""
    return GREETING.format(word=word)
