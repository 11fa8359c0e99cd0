"""Sorts Postgres column types into the few families sinks know how to store.

A sink picks its own type per family (see ``clickhouse`` and ``duckdb``) and converts each value
with ``to_text`` where it keeps a family as text. Types outside the families become text, so an
unusual source column degrades to a readable string instead of failing the load.
"""

import json
import re
import uuid
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

_FAMILIES = [
    ("smallint", "int"),
    ("integer", "int"),
    ("bigint", "int"),
    ("real", "float"),
    ("double precision", "float"),
    ("numeric", "decimal"),
    ("boolean", "bool"),
    ("timestamp with time zone", "timestamptz"),
    ("timestamp without time zone", "timestamp"),
    ("date", "date"),
    ("time without time zone", "time"),
    ("interval", "interval"),
    ("uuid", "uuid"),
    ("bytea", "bytes"),
    ("json", "json"),
    ("jsonb", "json"),
]
_NUMERIC = re.compile(r"^numeric\((\d+),(\d+)\)$")


def family(pg_type: str) -> str:
    """The family of a Postgres type as ``format_type`` spells it, e.g. "timestamp(3) with time zone"."""
    if pg_type.endswith("[]"):
        return "json"  # arrays travel as JSON text: neither sink's old or core types fit them all
    # Drop a precision modifier such as "(3)" or "(10,2)" before matching the base name.
    base = re.sub(r"\(\d+(,\d+)?\)", "", pg_type).strip()
    return dict(_FAMILIES).get(base, "text")


def numeric_precision(pg_type: str) -> tuple[int, int] | None:
    """(precision, scale) of "numeric(p,s)", or None for an unconstrained numeric."""
    match = _NUMERIC.match(pg_type.replace(" ", ""))
    return (int(match.group(1)), int(match.group(2))) if match else None


def to_text(value: Any) -> Any:
    """``value`` as text for a text column; None and bytes pass through."""
    if value is None or isinstance(value, (str, bytes)):
        return value
    if isinstance(value, (dict, list)):
        # psycopg decodes json and arrays into Python objects; store them as JSON again.
        return json.dumps(value, ensure_ascii=False, default=_json_default, separators=(",", ":"))
    if isinstance(value, (datetime, date, time)):
        return value.isoformat()
    return str(value)


def _json_default(value: Any) -> Any:
    if isinstance(value, (datetime, date, time)):
        return value.isoformat()
    if isinstance(value, (Decimal, uuid.UUID, timedelta)):
        return str(value)
    raise TypeError(f"cannot store {type(value).__name__} as JSON")
