"""dbt_run@1 and dbt_test@1 on dbt-postgres: dlt loads the tracker API into Postgres, dbt transforms and tests it there."""

from urllib.parse import urlsplit

import dagster as dg
import psycopg

from constellation_blocks.component import pipeline_definitions
from constellation_blocks.pipeline import Pipeline
from dbt_pipelines import dbt_manifest, dbt_pipeline, dbt_project, tracker_ingest, write_pipeline  # noqa: F401 (fixtures)
from stand_ins import PagedJsonServer


def test_dlt_then_dbt_run_then_dbt_test_against_postgres(tmp_path, dbt_project, dbt_manifest, pg_url, instance, monkeypatch):
    api = PagedJsonServer({
        "issues": [{"id": 1, "title": "a", "state": "open", "user_id": 1}, {"id": 2, "title": "b", "state": "stale", "user_id": 2}],
        "users": [{"id": 1, "login": "ada"}, {"id": 2, "login": "grace"}],
    })
    # dlt takes the database URL from its secret, dbt's profiles.yml the parts of it.
    parts = urlsplit(pg_url)
    # dlt's postgres destination wants a password in the URL; the test server trusts any.
    monkeypatch.setenv("TRACKER_WAREHOUSE_URL", pg_url.replace("postgres@", "postgres:unused@"))
    for name, value in {"HOST": parts.hostname, "PORT": str(parts.port), "USER": parts.username, "PASSWORD": parts.password or "",
                        "DBNAME": parts.path.lstrip("/")}.items():
        monkeypatch.setenv(f"TRACKER_PG_{name}", value)
    ingest = tracker_ingest(api.url, destination="postgres", destination_credentials_secret="TRACKER_WAREHOUSE_URL")
    data = dbt_pipeline("tracker", dbt_project, ingest=ingest, run={"target": "postgres"}, test={})
    try:
        folder = write_pipeline(tmp_path / "component", data, dbt_manifest("postgres"))
        defs = pipeline_definitions(Pipeline.load(folder))
        stg_issues = defs.resolve_asset_graph().get(dg.AssetKey(["local", "tracker", "transform", "stg_issues"]))
        assert stg_issues.kinds == {"dbt", "postgres"}
        result = defs.resolve_job_def("tracker__all_blocks").execute_in_process(instance=instance)
    finally:
        api.stop()

    assert result.success
    with psycopg.connect(pg_url) as con:
        rows = con.execute("SELECT login, open_issues FROM analytics.issues_per_user ORDER BY login").fetchall()
    assert rows == [("ada", 1), ("grace", 0)]
    evaluations = {e.asset_check_key.name: e.passed for e in result.get_asset_check_evaluations()}
    # "stale" is not a state the project accepts: that check fails, the others pass.
    assert evaluations.pop("accepted_values_stg_issues_state__open__closed") is False
    assert len(evaluations) == 6 and all(evaluations.values())
