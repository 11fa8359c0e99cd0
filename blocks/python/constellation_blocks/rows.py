"""The table value that flows between blocks: rows plus what a sink needs to create and key them."""

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass
class ExtractedRows:
    """Rows read from a source table, and the watermark a sink commits once it has stored them.

    Plain data, written between steps as Parquet by ``table_io`` (never pickled). ``column_types`` are the
    source's type names (Postgres ``format_type`` text, e.g. "timestamp with time zone") and
    ``nullable`` says which columns may hold NULL; sinks derive their own column types from both.
    """

    table: str
    columns: list[str]
    rows: list[tuple[Any, ...]]
    primary_key: list[str]
    previous_watermark: datetime | None
    watermark: datetime | None
    column_types: list[str] = field(default_factory=list)
    nullable: list[bool] = field(default_factory=list)
    source: str | None = None
    """The id of the block that produced the rows (its asset name)."""


def as_row_sets(rows: Any) -> list[ExtractedRows]:
    """The sink's input as a list: one ``ExtractedRows``, or several when a port takes many edges."""
    items = list(rows) if isinstance(rows, Sequence) and not isinstance(rows, (str, bytes)) else [rows]
    for item in items:
        if not isinstance(item, ExtractedRows):
            raise TypeError(
                f"expected the rows of an extract block (ExtractedRows), got {type(item).__name__}; "
                "connect this block's input to a source such as postgres_incremental_extract."
            )
    return items
