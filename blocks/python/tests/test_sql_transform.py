"""duckdb_sql_transform@1 called directly: user SQL over its inputs in a DuckDB that can read nothing else."""

from datetime import datetime, timezone
from decimal import Decimal

import dagster as dg
import pytest

from constellation_blocks import block_types, duckdb_steps
from constellation_blocks.duckdb import sql_transform
from constellation_blocks.pipeline import Block
from constellation_blocks.rows import ExtractedRows

WHEN = datetime(2024, 5, 1, 12, 0, tzinfo=timezone.utc)


def rows(source: str, columns: list[str], types: list[str], *values: tuple) -> ExtractedRows:
    return ExtractedRows(
        table=f"public.{source}", columns=columns, rows=list(values), primary_key=[], previous_watermark=None,
        watermark=None, column_types=types, nullable=[True] * len(columns), source=source,
    )


ORDERS = rows(
    "extract_orders", ["id", "customer_id", "total", "ordered_at"], ["bigint", "bigint", "numeric(10,2)", "timestamp with time zone"],
    (1, 10, Decimal("5.00"), WHEN), (2, 10, Decimal("7.50"), WHEN), (3, 20, Decimal("1.25"), WHEN), (4, 30, Decimal("9.00"), WHEN),
)
CUSTOMERS = rows("extract_customers", ["customer_id", "name"], ["bigint", "text"], (10, "ada"), (20, "bob"))


def transform(sql: str, **config) -> Block:
    return Block("joined", "duckdb_sql_transform@1", "Joined", None, block_types.with_defaults("duckdb_sql_transform@1", {"sql": sql, **config}), [])


def run(sql: str, *inputs: ExtractedRows, **config) -> dg.Output:
    return sql_transform(dg.build_asset_context(), transform(sql, **config), list(inputs or (ORDERS, CUSTOMERS)))


def test_joins_two_inputs_each_a_view_named_by_its_upstream_block():
    sql = """
        SELECT c.name, count(*) AS orders, sum(o.total) AS revenue
        FROM extract_orders o JOIN extract_customers c USING (customer_id)
        GROUP BY c.name ORDER BY c.name
    """
    out = run(sql, output_table="customer_revenue")
    result = out.value
    assert (result.table, result.source, result.columns) == ("customer_revenue", "joined", ["name", "orders", "revenue"])
    assert result.rows == [("ada", 2, Decimal("12.50")), ("bob", 1, Decimal("1.25"))]
    assert result.column_types == ["text", "bigint", "numeric(38,2)"]
    assert out.metadata["dagster/row_count"].value == 2


def test_output_table_defaults_to_result_and_a_with_query_is_a_select():
    result = run("WITH big AS (SELECT * FROM extract_orders WHERE total > 6) SELECT id FROM big ORDER BY id").value
    assert (result.table, result.rows) == ("result", [(2,), (4,)])


@pytest.mark.parametrize(
    ("sql", "expected"),
    [
        ("SELECT * FROM read_csv('/etc/passwd')", r'Cannot access file "/etc/passwd".*external access is off'),
        ("SELECT * FROM read_parquet('http://127.0.0.1:9/x.parquet')", r"Cannot access file \"http://127.0.0.1:9/x.parquet\""),
        ("SELECT * FROM '/etc/hostname'", r"Table with name /etc/hostname does not exist.*only the input tables \"extract_customers\", \"extract_orders\" can be read"),
        ("SELECT * FROM glob('/etc/*')", "Cannot access file"),
        ("COPY (SELECT 1) TO '{target}'", r"must be a SELECT \(or WITH … SELECT\) statement, not COPY"),
        ("ATTACH '{target}' AS other", "not ATTACH"),
        ("INSTALL httpfs", "not INSTALL"),
        ("PRAGMA version", "not PRAGMA"),
        ("SET enable_external_access = true; SELECT 1", "must be exactly one SELECT statement; it has 2"),
        ("SELECT 1; COPY (SELECT 1) TO '{target}'", "it has 2"),
    ],
)
def test_what_is_not_one_query_over_the_inputs_fails_naming_the_field_and_writes_nothing(tmp_path, sql, expected):
    target = tmp_path / "leak.csv"
    with pytest.raises(dg.Failure, match=expected) as failure:
        run(sql.format(target=target))
    assert "blocks.joined.config.sql" in str(failure.value)
    assert list(tmp_path.iterdir()) == []


def test_a_syntax_error_names_the_field():
    with pytest.raises(dg.Failure, match=r'blocks\.joined\.config\.sql is not valid DuckDB SQL: Parser Error: syntax error at or near "SELEC"'):
        run("SELEC 1")


def test_an_unknown_table_or_column_names_the_field_and_the_inputs():
    with pytest.raises(dg.Failure, match=r"blocks\.joined\.config\.sql failed in DuckDB: .*orders.*only the input tables"):
        run("SELECT * FROM orders")


def test_a_query_cannot_read_the_caller_s_variables():
    secret = ORDERS  # noqa: F841 - DuckDB's replacement scans would find a local variable by its name
    with pytest.raises(dg.Failure, match="Table with name secret does not exist"):
        run("SELECT * FROM secret")


def test_an_upstream_without_an_id_or_connected_twice_is_refused():
    with pytest.raises(dg.Failure, match='two inputs come from block "extract_orders"'):
        run("SELECT 1", ORDERS, ORDERS)


def test_needs_no_duckdb_file_lock_and_is_registered_as_a_duckdb_step():
    assert duckdb_steps.op_tags("duckdb_sql_transform@1", {"sql": "SELECT 1"}) == {}
    assert duckdb_steps.op_tags("feature_engineering@1", {}) == {}
    assert duckdb_steps.op_tags("duckdb_load@1", {}) == duckdb_steps.OP_TAGS
    assert block_types.step("duckdb_sql_transform@1") is sql_transform
    assert block_types.kind("duckdb_sql_transform@1") == block_types.kind("feature_engineering@1") == "duckdb"
