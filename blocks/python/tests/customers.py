"""The source table the incremental tests read, and small helpers around it."""

from datetime import datetime, timedelta, timezone

import dagster as dg
import psycopg
from psycopg.types.json import Jsonb

T0 = datetime(2024, 1, 1, tzinfo=timezone.utc)

CREATE = """
CREATE TABLE public.customers (
    id bigint PRIMARY KEY,
    name text NOT NULL,
    email text,
    balance numeric(12, 2),
    active boolean NOT NULL DEFAULT true,
    profile jsonb,
    created_at timestamptz NOT NULL,
    updated_at timestamptz
)
"""


def create(url: str) -> None:
    """Creates the empty customers table."""
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(CREATE)


def insert(url: str, rows: list[dict]) -> None:
    """Inserts customers; each dict needs id and created_at, the rest has defaults."""
    with psycopg.connect(url, autocommit=True) as conn:
        for row in rows:
            conn.execute(
                "INSERT INTO public.customers (id, name, email, balance, active, profile, created_at, updated_at)"
                " VALUES (%s, %s, %s, %s, %s, %s, %s, %s)",
                (
                    row["id"],
                    row.get("name", f"customer {row['id']}"),
                    row.get("email", f"c{row['id']}@example.com"),
                    row.get("balance", "10.50"),
                    row.get("active", True),
                    Jsonb(row["profile"]) if row.get("profile") is not None else None,
                    row["created_at"],
                    row.get("updated_at", row["created_at"]),
                ),
            )


def update(url: str, ids: list[int], updated_at: datetime, **values) -> None:
    """Sets columns of some customers and bumps their updated_at."""
    with psycopg.connect(url, autocommit=True) as conn:
        for customer_id in ids:
            conn.execute(
                "UPDATE public.customers SET name = coalesce(%s, name), updated_at = %s WHERE id = %s",
                (values.get("name"), updated_at, customer_id),
            )


def seed_ten(url: str) -> None:
    """Ten customers a minute apart; id 1 was updated at T0+30 min (the latest stamp), id 4 never."""
    create(url)
    insert(url, [{"id": i, "created_at": T0 + timedelta(minutes=i)} for i in range(1, 11)])
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("UPDATE public.customers SET updated_at = %s WHERE id = 1", (T0 + timedelta(minutes=30),))
        conn.execute("UPDATE public.customers SET updated_at = NULL WHERE id = 4")


def run(module, instance: dg.DagsterInstance, raise_on_error: bool = True) -> dg.ExecuteInProcessResult:
    """Runs the location's job "all_blocks" in process on ``instance``."""
    job = module.defs.resolve_job_def("all_blocks")
    return job.execute_in_process(instance=instance, raise_on_error=raise_on_error)


def extract_metadata(result: dg.ExecuteInProcessResult) -> dict:
    """The extract's materialization metadata in this run, as plain values."""
    [materialization] = [
        m for m in result.asset_materializations_for_node("extract_customers")
    ]
    return {key: value.value for key, value in materialization.metadata.items()}


def clickhouse_rows(ch, database: str, columns: str = "id, name, updated_at") -> list[tuple]:
    """The ClickHouse table after collapsing versions (FINAL), ordered by id."""
    return ch.execute(f"SELECT {columns} FROM {database}.customers FINAL ORDER BY id")
