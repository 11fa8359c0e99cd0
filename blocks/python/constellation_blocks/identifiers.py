"""Checks and quotes the identifiers (tables, columns) that reach SQL text.

Values never reach SQL text: they travel as query parameters. Identifiers cannot, so those from
a block's config are first checked against the manifest's pattern (again: pipeline.json may have
been edited by hand), then quoted; column names read from a source table are quoted with escaping.
"""

import re

_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def checked(name: object, what: str) -> str:
    """``name`` if it is a plain identifier (letters, digits, underscores), else a ValueError."""
    if not isinstance(name, str) or not _NAME.match(name):
        raise ValueError(f"{what} must be a plain identifier (letters, digits and underscores, not starting with a digit), got {name!r}")
    return name


def checked_table(name: object, what: str = "table") -> list[str]:
    """The parts of ``name`` ("table" or "schema.table"), each checked with ``checked``."""
    if not isinstance(name, str):
        raise ValueError(f"{what} must be a string like \"schema.table\", got {name!r}")
    parts = name.split(".")
    if len(parts) > 2:
        raise ValueError(f'{what} must be "table" or "schema.table", got {name!r}')
    return [checked(part, what) for part in parts]


def clickhouse_quote(name: str) -> str:
    """``name`` as a ClickHouse back-quoted identifier (backslash and back quote escaped)."""
    return "`" + name.replace("\\", "\\\\").replace("`", "\\`") + "`"


def duckdb_quote(name: str) -> str:
    """``name`` as a DuckDB (standard SQL) double-quoted identifier."""
    return '"' + name.replace('"', '""') + '"'
