"""Edge contracts at run time: a step refuses a table that lacks a column its input needs (pipeline.json's
``inputs[].columns``), naming the column, the upstream block and the port, before the step touches it.

Pipelines are wired as the compiler wires them (duckdb_table_read → duckdb_load, all DuckDB) and
materialized in process.
"""

import dagster as dg
import duckdb
import pyarrow as pa
import pytest

from constellation_blocks.column_contracts import NeededColumn, check_input
from constellation_blocks.pipeline import Pipeline, PipelineFileError
from pipelines import node, pipeline, run, step_error


@pytest.fixture
def source(tmp_path):
    """A DuckDB file whose customers table has id and name, and no updated_at."""
    path = tmp_path / "source.duckdb"
    with duckdb.connect(str(path)) as con:
        con.execute("CREATE TABLE customers (id INTEGER, name VARCHAR)")
        con.execute("INSERT INTO customers VALUES (1, 'ada'), (2, 'grace')")
    return path


def read_then_load(tmp_path, source, needs: list[dict]) -> dict:
    data = pipeline(
        "contracts",
        {
            "extract_customers": ("duckdb_table_read@1", {"database_path": str(source), "table": "main.customers"}),
            "load_customers": (
                "duckdb_load@1",
                {"database_path": str(tmp_path / "target.duckdb"), "table": "main.customers", "mode": "replace"},
                {"rows": ["extract_customers"]},
            ),
        },
    )
    data["blocks"]["load_customers"]["inputs"][0]["columns"] = needs
    return data


def test_a_table_lacking_a_needed_column_fails_the_step_naming_it(tmp_path, source, instance):
    result = run(read_then_load(tmp_path, source, [{"name": "id", "type": None}, {"name": "updated_at", "type": None}]), instance)
    assert not result.success
    assert 'load_customers: input rows from extract_customers lacks column "updated_at" (it has: id, name)' in step_error(result)
    assert not (tmp_path / "target.duckdb").exists()  # refused before the sink wrote anything


def test_a_table_with_every_needed_column_loads(tmp_path, source, instance):
    result = run(read_then_load(tmp_path, source, [{"name": "id", "type": "integer"}, {"name": "name", "type": None}]), instance)
    assert result.success
    assert result.output_for_node(node("load_customers", "contracts"))["rows_written"] == 2


def test_a_needed_type_the_table_has_otherwise_fails_naming_both(tmp_path, source, instance):
    result = run(read_then_load(tmp_path, source, [{"name": "id", "type": "timestamp"}]), instance)
    assert 'load_customers: input rows from extract_customers has column "id" as integer, but it must be timestamp' in step_error(result)


def test_arrow_tables_are_checked_and_values_that_are_no_table_are_not():
    table = pa.table({"id": [1], "seen": [True]})
    check_input("b", "rows", "a", table, [NeededColumn("id", "integer"), NeededColumn("seen", "boolean")])
    with pytest.raises(dg.Failure, match=r'lacks columns "x", "y" \(it has: id, seen\)'):
        check_input("b", "rows", "a", table, [NeededColumn("x"), NeededColumn("id"), NeededColumn("y")])
    check_input("b", "files", "a", [{"key": "a.csv"}], [NeededColumn("x")])


def test_a_malformed_needs_list_is_refused_when_the_pipeline_loads(tmp_path, source):
    data = read_then_load(tmp_path, source, [{"type": "integer"}])
    with pytest.raises(PipelineFileError, match=r"blocks.load_customers.inputs\[0\].columns\[0\].name is missing"):
        Pipeline(data)


def test_a_missing_column_is_not_retried(tmp_path, source, instance):
    # A retry reads the same upstream output again: it cannot find the column either, and would
    # only delay the failure by the policy's delays.
    data = read_then_load(tmp_path, source, [{"name": "updated_at", "type": None}])
    data["blocks"]["load_customers"]["retry_policy"] = {"max_retries": 2, "delay_seconds": 0, "backoff": None, "jitter": None}
    result = run(data, instance)
    assert 'lacks column "updated_at"' in step_error(result)
    assert [e.event_type_value for e in result.all_events if e.event_type_value == "STEP_UP_FOR_RETRY"] == []
