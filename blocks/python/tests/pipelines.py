"""Format-2 pipelines of several blocks, wired as the compiler wires them, for tests of blocks that work together."""

import uuid

import dagster as dg

from constellation_blocks.component import pipeline_definitions
from constellation_blocks.pipeline import Pipeline


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


def add_block(data: dict, block_id: str, block_type: str, config: dict, inputs: dict[str, list[str]]) -> dict:
    """``data`` with one more block fed by ``inputs`` ({port: [upstream ids]}), in job "all_blocks" too."""
    data["blocks"][block_id] = {
        "type": block_type, "name": None, "description": None, "config": config, "retry_policy": None, "downstream": [],
        "inputs": [{"port": port, "upstream": ups, "multiple": len(ups) > 1} for port, ups in inputs.items()], "resource_key": None,
    }
    for upstream in dict.fromkeys(u for ups in inputs.values() for u in ups):
        data["blocks"][upstream]["downstream"].append(block_id)
    data["jobs"]["all_blocks"]["blocks"].append(block_id)
    return data


def run(data: dict, instance, **execute) -> dg.ExecuteInProcessResult:
    """Runs the pipeline's job "<slug>__all_blocks" in process (``execute``: e.g. partition_key), failures kept in the result."""
    job = pipeline_definitions(Pipeline(data)).resolve_job_def(f"{data['namespace']['group']}__all_blocks")
    return job.execute_in_process(instance=instance, raise_on_error=False, **execute)


def node(block_id: str, slug: str) -> str:
    """The op name of a block's asset: its key joined with "__" (org "local")."""
    return f"local__{slug}__{block_id}"


def step_error(result: dg.ExecuteInProcessResult) -> str:
    """The error of the run's one failed step, as text."""
    [failure] = [e for e in result.all_events if e.is_step_failure]
    return failure.step_failure_data.error.to_string()
