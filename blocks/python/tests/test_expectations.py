"""great_expectations_validation@1: a real Great Expectations suite run as an asset check on a table dlt loaded.

The upstream is a real dlt_ingestion block (rest_api from a local paged JSON server) loading into
DuckDB or PostgreSQL; the check reads the loaded table back from there.
"""

import dagster as dg
import pytest

from constellation_blocks.component import build_blocks, pipeline_definitions
from constellation_blocks.pipeline import Pipeline, PipelineFileError
from dlt_pipelines import rest_api_config
from pipelines import pipeline
from stand_ins import PagedJsonServer

ISSUES = [{"id": i, "title": f"issue {i}", "state": "open" if i % 2 else "closed", "comments": i} for i in range(1, 6)]
ISSUES_KEY = dg.AssetKey(["local", "shop", "ingest", "issues"])
EXPECTATIONS = [
    {"type": "expect_column_values_to_not_be_null", "kwargs": {"column": "title"}},
    {"type": "expect_column_values_to_be_unique", "kwargs": {"column": "id"}},
    {"type": "expect_column_values_to_be_between", "kwargs": {"column": "comments", "min_value": 0}},
    {"type": "expect_column_values_to_be_in_set", "kwargs": {"column": "state", "value_set": ["open", "closed"]}},
    {"type": "expect_column_values_to_match_regex", "kwargs": {"column": "title", "regex": "^issue "}},
    {"type": "expect_table_row_count_to_be_between", "kwargs": {"min_value": 1}},
]


@pytest.fixture
def api():
    server = PagedJsonServer({"issues": [dict(row) for row in ISSUES], "users": [{"id": 1, "login": "ada"}]}, page_size=10)
    yield server
    server.stop()


def shop(api_url: str, warehouse: str, **check_config) -> dict:
    """dlt loads /issues and /users into DuckDB (merge on id); the block "validate" checks one table."""
    ingest = rest_api_config(api_url, duckdb_path=warehouse, write_disposition="merge", primary_key=["id"], dataset_name="shop_raw")
    check = {"table": "issues", "schema": "shop_raw", "duckdb_path": warehouse, "expectations": EXPECTATIONS, **check_config}
    return pipeline("shop", {
        "ingest": ("dlt_ingestion@1", ingest),
        "validate": ("great_expectations_validation@1", check, {"tables": ["ingest"]}),
    })


def run(data: dict, instance) -> tuple[dg.ExecuteInProcessResult, dg.AssetCheckEvaluation]:
    result = pipeline_definitions(Pipeline(data)).resolve_job_def("shop__all_blocks").execute_in_process(instance=instance, raise_on_error=False)
    [evaluation] = result.get_asset_check_evaluations()
    return result, evaluation


def outcomes(evaluation: dg.AssetCheckEvaluation) -> dict[str, dict]:
    return {o["expectation"]: o for o in evaluation.metadata["results"].value}


def test_the_check_sits_on_the_upstream_table_it_names_and_makes_no_asset(tmp_path, api):
    built = build_blocks(Pipeline(shop(api.url, str(tmp_path / "w.duckdb"))), {})["validate"]
    assert built.assets == []
    assert built.check_keys == [dg.AssetCheckKey(ISSUES_KEY, "validate")]
    [spec] = built.checks[0].check_specs
    assert spec.blocking and spec.asset_key == ISSUES_KEY
    # What downstream blocks wait for: the table, checked.
    assert built.keys == (ISSUES_KEY,)
    assert api.requests == []


def test_a_passing_suite_passes_the_check_with_every_expectation_in_its_metadata(tmp_path, api, instance):
    result, evaluation = run(shop(api.url, str(tmp_path / "w.duckdb"), suite_name="issues_suite"), instance)
    assert result.success and evaluation.passed
    assert evaluation.asset_key == ISSUES_KEY and evaluation.check_name == "validate"
    assert evaluation.metadata["suite"].value == "issues_suite"
    assert evaluation.metadata["rows"].value == 5 and evaluation.metadata["failed_expectations"].value == 0
    results = outcomes(evaluation)
    assert set(results) == {e["type"] for e in EXPECTATIONS} and all(o["success"] for o in results.values())
    assert results["expect_table_row_count_to_be_between"]["observed_value"] == 5
    assert results["expect_column_values_to_be_between"]["kwargs"] == {"column": "comments", "min_value": 0}


def test_bad_data_fails_the_check_with_error_severity_and_blocks_the_run(tmp_path, api, instance):
    api.resources["issues"][1]["title"] = None
    api.resources["issues"][2]["comments"] = -3
    api.resources["issues"].append({"id": 6, "title": "bug 6", "state": "reopened", "comments": 1})
    result, evaluation = run(shop(api.url, str(tmp_path / "w.duckdb")), instance)

    assert not evaluation.passed and evaluation.severity == dg.AssetCheckSeverity.ERROR
    # The validation ran to the end; Dagster then fails the blocking check's step, and so the run.
    [failure] = [e for e in result.all_events if e.is_step_failure]
    assert failure.step_failure_data.error.cls_name == "DagsterAssetCheckFailedError"
    assert result.get_asset_materialization_events()  # the table was loaded before it was checked
    results = outcomes(evaluation)
    assert results["expect_column_values_to_not_be_null"]["unexpected_count"] == 1
    assert results["expect_column_values_to_be_between"]["unexpected_count"] == 1
    assert results["expect_column_values_to_be_in_set"]["unexpected_count"] == 1
    # A null is not counted against the regex (Great Expectations skips nulls); "bug 6" is.
    assert results["expect_column_values_to_match_regex"]["unexpected_count"] == 1
    assert results["expect_column_values_to_be_unique"]["success"] and results["expect_table_row_count_to_be_between"]["success"]
    assert evaluation.metadata["failed_expectations"].value == 4
    assert evaluation.description.startswith("4 of 6 expectations failed")


def test_without_fail_pipeline_on_error_a_failure_only_warns(tmp_path, api, instance):
    api.resources["issues"][0]["state"] = "lost"
    data = shop(api.url, str(tmp_path / "w.duckdb"), fail_pipeline_on_error=False)
    [spec] = build_blocks(Pipeline(data), {})["validate"].checks[0].check_specs
    assert not spec.blocking
    result, evaluation = run(data, instance)
    assert result.success and not evaluation.passed and evaluation.severity == dg.AssetCheckSeverity.WARN


def test_reads_the_table_from_postgres_through_the_url_in_its_secret(pg_url, api, instance, monkeypatch):
    # dlt's postgres destination wants a password in the URL; the test server trusts any.
    monkeypatch.setenv("SHOP_DB", pg_url.replace("postgres@", "postgres:unused@"))
    monkeypatch.setenv("SHOP_READ_DB", pg_url)
    ingest = rest_api_config(api.url, destination="postgres", destination_credentials_secret="SHOP_DB", dataset_name="shop_raw")
    api.resources["issues"][0]["comments"] = -1
    data = pipeline("shop", {
        "ingest": ("dlt_ingestion@1", ingest),
        "validate": ("great_expectations_validation@1", {
            "table": "issues", "schema": "shop_raw", "database": "postgres", "connection_secret": "SHOP_READ_DB", "expectations": EXPECTATIONS,
        }, {"tables": ["ingest"]}),
    })
    _, evaluation = run(data, instance)
    assert not evaluation.passed and evaluation.metadata["rows"].value == 5
    assert outcomes(evaluation)["expect_column_values_to_be_between"]["unexpected_count"] == 1


def test_a_table_that_is_not_there_fails_the_check_step_saying_which(tmp_path, api, instance):
    data = shop(api.url, str(tmp_path / "w.duckdb"), schema="elsewhere")
    result = pipeline_definitions(Pipeline(data)).resolve_job_def("shop__all_blocks").execute_in_process(instance=instance, raise_on_error=False)
    assert not result.success
    [failure] = [e for e in result.all_events if e.is_step_failure]
    assert "could not read elsewhere.issues from duckdb" in failure.step_failure_data.error.message


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda c: c.pop("table"), r"blocks.validate.config.table is required"),
        (lambda c: c.update(table="orders"), r'blocks.validate.config.table "orders" names no upstream asset; the upstream assets are issues, users'),
        (lambda c: c.update(table="is-sues"), r"blocks.validate.config.table is not a plain table name"),
        (lambda c: c.pop("duckdb_path"), r"blocks.validate.config.duckdb_path must name the DuckDB file"),
        (lambda c: c.update(database="mysql"), r"blocks.validate.config.database must be one of duckdb, postgres"),
        (lambda c: c.update(expectations=[{"type": "expect_column_values_to_be_between", "kwargs": {"min_value": 0}}]),
         r"blocks.validate.config.expectations\[0\].kwargs do not fit expect_column_values_to_be_between: column"),
        (lambda c: c.update(expectations=[{"type": "expect_magic", "kwargs": {}}]), r"blocks.validate.config.expectations\[0\].type must be one of"),
        (lambda c: c.update(database="postgres", connection_secret="not a name"), r"blocks.validate.config.connection_secret must name an environment variable"),
    ],
)
def test_a_config_the_check_cannot_run_fails_the_load_naming_the_key(tmp_path, change, message):
    data = shop("http://127.0.0.1:9/", str(tmp_path / "w.duckdb"))
    change(data["blocks"]["validate"]["config"])
    with pytest.raises(PipelineFileError, match=message):
        pipeline_definitions(Pipeline(data))
