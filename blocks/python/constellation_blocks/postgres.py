"""PostgreSQL: a connection resource and the incremental extract block."""

from datetime import datetime
from typing import Any

import dagster as dg
import psycopg
from psycopg import sql
from pydantic import Field

from constellation_blocks import identifiers
from constellation_blocks.pipeline import Block
from constellation_blocks.rows import ExtractedRows
from constellation_blocks.watermark import PREVIOUS_WATERMARK_KEY, WATERMARK_KEY, committed_watermark


class PostgresResource(dg.ConfigurableResource):
    """A PostgreSQL database reached with psycopg 3, from a URL such as postgresql://user:pw@host:5432/db."""

    url: str = Field(description="Connection URL, e.g. postgresql://user:password@host:5432/db (set from a secret).")

    def connect(self) -> psycopg.Connection:
        """A new connection whose session time zone is UTC.

        UTC, so that timestamps without time zone compare with a watermark given with an offset
        (``initial_watermark``) the same way whatever the server's default zone is.
        """
        conn = psycopg.connect(self.url, autocommit=True)
        conn.execute("SET TIME ZONE 'UTC'")
        return conn


def incremental_extract(context: dg.AssetExecutionContext, block: Block, postgres: PostgresResource) -> dg.Output:
    """Reads the rows of a table created or updated since the committed watermark.

    The committed watermark is the oldest ``constellation/watermark`` among the latest
    materializations of the downstream sinks (see ``constellation_blocks.watermark``); without
    one, the whole table is read (or from ``initial_watermark``). The boundary is inclusive: rows
    stamped exactly at the watermark are read again, which sinks absorb by key, so a row committed
    late with that same timestamp is not lost. Rows come in keyset-paginated batches ordered by
    (latest of the two timestamps, primary key), so a run of equal timestamps never loops.
    All batches read one snapshot (REPEATABLE READ), so the watermark matches the rows returned.
    """
    config = block.config
    table = identifiers.checked_table(config["table"], "table")
    created = identifiers.checked(config["created_at_column"], "created_at_column")
    updated = identifiers.checked(config["updated_at_column"], "updated_at_column")
    primary_key = [identifiers.checked(c, "primary_key column") for c in config["primary_key"]]
    batch_size = int(config["batch_size"])

    since = committed_watermark(context.instance, block)
    if since is None and config.get("initial_watermark"):
        since = datetime.fromisoformat(config["initial_watermark"].replace("Z", "+00:00"))

    with postgres.connect() as conn:
        conn.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
        conn.read_only = True
        with conn.transaction():
            catalog = describe_table(conn, table, config["table"])
            wanted = [identifiers.checked(c, "columns entry") for c in config.get("columns") or []] or list(catalog)
            _require_columns(catalog, [*wanted, created, updated, *primary_key], config["table"])
            if since is None:
                _warn_unstamped(context, conn, table, created, updated)
            rows, watermark, new_count, batches = _read(conn, table, wanted, created, updated, primary_key, since, batch_size)

    result = ExtractedRows(
        table=config["table"],
        columns=list(wanted),
        rows=rows,
        primary_key=primary_key,
        previous_watermark=since,
        watermark=watermark or since,
        column_types=[catalog[c][0] for c in wanted],
        nullable=[catalog[c][1] for c in wanted],
        source=block.id,
    )
    context.log.info(
        f"Read {len(rows)} row(s) of {config['table']} in {batches} batch(es) since "
        f"{since.isoformat() if since else 'the beginning'}: {new_count} new, {len(rows) - new_count} changed."
    )
    return dg.Output(
        result,
        metadata={
            "table": config["table"],
            "total_rows": len(rows),
            "new_rows": new_count,
            "changed_rows": len(rows) - new_count,
            "initial_load": since is None,
            PREVIOUS_WATERMARK_KEY: since.isoformat() if since else None,
            WATERMARK_KEY: result.watermark.isoformat() if result.watermark else None,
        },
    )


def describe_table(conn: psycopg.Connection, table: list[str], label: str) -> dict[str, tuple[str, bool]]:
    """Column name → (type as Postgres spells it, nullable), in table order."""
    # The quoted name goes in as a value and is parsed by ::regclass, so case is kept as quoted.
    qualified = sql.Identifier(*table).as_string(conn)
    try:
        found = conn.execute(
            "SELECT a.attname, format_type(a.atttypid, a.atttypmod), NOT a.attnotnull"
            " FROM pg_catalog.pg_attribute a"
            " WHERE a.attrelid = %s::regclass AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum",
            (qualified,),
        ).fetchall()
    except psycopg.errors.UndefinedTable:
        raise ValueError(f'table "{label}" does not exist in the source database (or is not visible to its user)') from None
    return {name: (pg_type, nullable) for name, pg_type, nullable in found}


def _require_columns(catalog: dict[str, Any], needed: list[str], label: str) -> None:
    missing = [c for c in dict.fromkeys(needed) if c not in catalog]
    if missing:
        raise ValueError(f'table "{label}" has no column(s) {", ".join(missing)}; it has: {", ".join(catalog)}')


def _warn_unstamped(context: dg.AssetExecutionContext, conn: psycopg.Connection, table: list[str], created: str, updated: str) -> None:
    # A row with neither timestamp has no place on the timeline the watermark walks; say so
    # rather than skip it silently.
    query = sql.SQL("SELECT count(*) FROM {t} WHERE {c} IS NULL AND {u} IS NULL").format(
        t=sql.Identifier(*table), c=sql.Identifier(created), u=sql.Identifier(updated)
    )
    skipped = conn.execute(query).fetchone()[0]
    if skipped:
        context.log.warning(f"{skipped} row(s) have neither {created} nor {updated} set and are not extracted.")


def _read(conn, table, columns, created, updated, primary_key, since, batch_size):
    """All matching rows in batches; returns (rows, max timestamp seen, new-row count, batches)."""
    ident = sql.Identifier
    sort_key = sql.SQL("greatest({c}, coalesce({u}, {c}))").format(c=ident(created), u=ident(updated))
    order = sql.SQL(", ").join([sort_key, *map(ident, primary_key)])
    is_new = sql.SQL("coalesce({c} >= %(since)s, false)").format(c=ident(created)) if since else sql.SQL("true")
    where = [sql.SQL("{k} IS NOT NULL").format(k=sort_key)]
    if since is not None:
        where.append(sql.SQL("({c} >= %(since)s OR {u} >= %(since)s)").format(c=ident(created), u=ident(updated)))
    after = sql.SQL("({order}) > ({params})").format(
        order=order, params=sql.SQL(", ").join(sql.Placeholder(f"after{i}") for i in range(len(primary_key) + 1))
    )
    # Hidden trailing columns: the sort key, the "new" flag and the key values, for the next page.
    select = sql.SQL("SELECT {cols}, {k}, {new}, {pk} FROM {t}").format(
        cols=sql.SQL(", ").join(map(ident, columns)), k=sort_key, new=is_new,
        pk=sql.SQL(", ").join(map(ident, primary_key)), t=ident(*table),
    )
    first_page = sql.SQL("{s} WHERE {w} ORDER BY {o} LIMIT %(limit)s").format(s=select, w=sql.SQL(" AND ").join(where), o=order)
    next_page = sql.SQL("{s} WHERE {w} ORDER BY {o} LIMIT %(limit)s").format(s=select, w=sql.SQL(" AND ").join([*where, after]), o=order)

    width = len(columns)
    rows: list[tuple] = []
    watermark = None
    new_count = batches = 0
    params: dict[str, Any] = {"since": since, "limit": batch_size}
    query = first_page
    while True:
        page = conn.execute(query, params).fetchall()
        batches += 1
        rows.extend(row[:width] for row in page)
        new_count += sum(1 for row in page if row[width + 1])
        if page:
            # Pages come in sort-key order, so the last row seen holds the largest timestamp.
            watermark = page[-1][width]
        if len(page) < batch_size:
            return rows, watermark, new_count, batches
        last = page[-1]
        params.update({f"after{i}": value for i, value in enumerate((last[width], *last[width + 2 :]))})
        query = next_page
