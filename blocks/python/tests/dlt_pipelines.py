"""Format-2 pipelines with one dlt_ingestion block, as the compiler writes them, for the dlt tests."""

from pipelines import pipeline


def dlt_pipeline(slug: str, config: dict, *, org: str = "local", block_id: str = "ingest", retry: bool = False) -> dict:
    """A pipeline whose only block is ``block_id`` (dlt_ingestion@1 with ``config``), run by job "<slug>__all_blocks"."""
    data = pipeline(slug, {block_id: ("dlt_ingestion@1", config)}, org=org)
    block = data["blocks"][block_id]
    block["name"] = "Ingest with dlt"
    if retry:
        block["retry_policy"] = {"max_retries": 1, "delay_seconds": 1, "backoff": "exponential", "jitter": None}
    return data


def rest_api_config(base_url: str, **overrides) -> dict:
    """rest_api reading /issues and /users of a PagedJsonServer, paged by the "next" link of each page."""
    config = {
        "pipeline_name": "tracker",
        "source": "rest_api",
        "source_config": {
            "client": {"base_url": base_url, "paginator": {"type": "json_link", "next_url_path": "next"}},
            "resource_defaults": {"endpoint": {"data_selector": "items"}},
            "resources": ["issues", "users"],
        },
        "dataset_name": "tracker_raw",
    }
    config.update(overrides)
    return config
