"""Format-2 pipelines with one dlt_ingestion block, as the compiler writes them, for the dlt tests."""

import uuid


def dlt_pipeline(slug: str, config: dict, *, org: str = "local", block_id: str = "ingest", retry: bool = False) -> dict:
    """A pipeline whose only block is ``block_id`` (dlt_ingestion@1 with ``config``), run by job "<slug>__all_blocks"."""
    pipeline_id = str(uuid.uuid4())
    return {
        "format": 2,
        "pipeline": {"id": pipeline_id, "name": f"Pipeline {slug}", "description": None, "version": 1, "slug": slug, "org": org},
        "namespace": {"asset_key_prefix": [org, slug], "group": slug},
        "blocks": {
            block_id: {
                "type": "dlt_ingestion@1",
                "name": "Ingest with dlt",
                "description": None,
                "config": config,
                "retry_policy": {"max_retries": 1, "delay_seconds": 1, "backoff": "exponential", "jitter": None} if retry else None,
                "downstream": [],
                "inputs": [],
                "resource_key": None,
            },
        },
        "jobs": {"all_blocks": {"name": f"{slug}__all_blocks", "blocks": [block_id], "description": None}},
        "schedules": {},
        "sensors": {},
        "partitions": None,
        "run_tags": {"constellation/pipeline_id": pipeline_id, "constellation/pipeline_version": "1"},
    }


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
