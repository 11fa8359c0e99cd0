"""Format-2 pipelines of several blocks, wired as the compiler wires them, for tests of blocks that work together."""

import uuid


def pipeline(slug: str, blocks: dict[str, tuple], *, org: str = "local", resource_keys: dict[str, str] | None = None) -> dict:
    """A pipeline.json dict; ``blocks`` maps each id to (type, config, {port: [upstream ids]}), run by job "<slug>__all_blocks"."""
    pipeline_id = str(uuid.uuid4())
    inputs = {block_id: spec[2] if len(spec) > 2 else {} for block_id, spec in blocks.items()}
    return {
        "format": 2,
        "pipeline": {"id": pipeline_id, "name": f"Pipeline {slug}", "description": None, "version": 1, "slug": slug, "org": org},
        "namespace": {"asset_key_prefix": [org, slug], "group": slug},
        "blocks": {
            block_id: {
                "type": spec[0],
                "name": None,
                "description": None,
                "config": spec[1],
                "retry_policy": None,
                "downstream": [other for other, ports in inputs.items() if any(block_id in ups for ups in ports.values())],
                "inputs": [{"port": port, "upstream": ups, "multiple": len(ups) > 1} for port, ups in inputs[block_id].items()],
                "resource_key": (resource_keys or {}).get(block_id),
            }
            for block_id, spec in blocks.items()
        },
        "jobs": {"all_blocks": {"name": f"{slug}__all_blocks", "blocks": list(blocks), "description": None}},
        "schedules": {},
        "sensors": {},
        "partitions": None,
        "run_tags": {"constellation/pipeline_id": pipeline_id, "constellation/pipeline_version": "1"},
    }
