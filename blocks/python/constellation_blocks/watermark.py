"""Where an incremental extract's watermark lives: in its sinks' materialization metadata.

A sink writes ``constellation/watermark`` only when it has stored the rows, and Dagster records
a materialization only for a step that succeeded. So the watermark an extract starts from (the
oldest one among its sinks) never runs ahead of what every sink holds: a sink failing mid-run
leaves it where it was, and the next run reads those rows again.

Watermarks are found by the sinks' full asset keys (``Block.asset_key``): in a shard, many
pipelines have blocks of the same name, told apart only by their namespace prefix, so a one-part
key would read another pipeline's watermark, or none at all and silently reload everything.

Legacy carry-over. A pipeline deployed before shards lived in its own location with one-part keys
(``[load_customers]``); moved into a shard, the same sink is ``[org, slug, load_customers]`` and
has no materialization yet. Then, and only then, the watermark is read from the legacy key
``[load_customers]`` — so the first run in the shard resumes where the old location stopped rather
than reloading the whole table. But a one-part key is shared by every legacy pipeline that has a
block of that name, so a legacy materialization counts only if the run that made it carries this
pipeline's ``constellation/pipeline_id`` tag (every job of every location sets it): the latest
such one among the key's recent materializations is used, another pipeline's are skipped, and
without one the extract starts from the beginning as a new pipeline would. Once the sink
materializes under its full key, the legacy key is never read again.
"""

from collections.abc import Sequence
from datetime import datetime

import dagster as dg

from constellation_blocks.pipeline import Block
from constellation_blocks.rows import ExtractedRows

WATERMARK_KEY = "constellation/watermark"
PREVIOUS_WATERMARK_KEY = "constellation/previous_watermark"
PIPELINE_ID_TAG = "constellation/pipeline_id"
"""The run tag naming the pipeline a run belongs to (set as a job tag from pipeline.json's run_tags)."""
LEGACY_SEARCH_LIMIT = 100
"""How many of a legacy key's latest materializations are searched for one made by this pipeline."""


def source_key(source: str) -> str:
    """The metadata key a sink fed by several extracts uses for the watermark of ``source``."""
    return f"{WATERMARK_KEY}/{source}"


def sink_metadata(row_sets: Sequence[ExtractedRows]) -> dict[str, str]:
    """The watermark metadata a sink adds to its materialization after storing ``row_sets``.

    A single input (the usual case) gives ``constellation/watermark``. Each input also gets a key
    of its own, so that a sink fed by several extracts commits each one's watermark separately.
    An input that has never seen a row has no watermark, and its extract starts over next time.
    """
    metadata = {source_key(r.source): r.watermark.isoformat() for r in row_sets if r.source and r.watermark}
    if len(row_sets) == 1 and row_sets[0].watermark is not None:
        metadata[WATERMARK_KEY] = row_sets[0].watermark.isoformat()
    return metadata


def committed_watermark(instance: dg.DagsterInstance, block: Block) -> datetime | None:
    """The watermark ``block`` (an extract) may resume from, or None to read everything.

    The minimum over the latest materializations of the block's downstream assets; without
    downstream blocks, the extract's own latest materialization. None as soon as one of them has
    never materialized or carries no watermark.
    """
    names = block.downstream or [block.id]
    marks = []
    for name in names:
        mark = _recorded_watermark(_latest_materialization(instance, block, name), block.id)
        if mark is None:
            return None
        marks.append(mark)
    return min(marks)


def _latest_materialization(instance: dg.DagsterInstance, block: Block, name: str) -> dg.EventLogEntry | None:
    """The latest materialization of the pipeline's asset ``name``, or its legacy carry-over."""
    entry = instance.get_latest_materialization_event(block.asset_key(name))
    if entry is not None or not block.key_prefix or block.pipeline_id is None:
        return entry
    return _legacy_materialization(instance, dg.AssetKey([name]), block.pipeline_id)


def _legacy_materialization(instance: dg.DagsterInstance, key: dg.AssetKey, pipeline_id: str) -> dg.EventLogEntry | None:
    """The latest recent materialization of the one-part ``key`` made by a run of ``pipeline_id``."""
    entries = [r.event_log_entry for r in instance.fetch_materializations(key, limit=LEGACY_SEARCH_LIMIT).records]  # newest first
    run_ids = list({entry.run_id for entry in entries if entry.run_id})
    if not run_ids:
        return None
    ours = {run.run_id for run in instance.get_runs(filters=dg.RunsFilter(run_ids=run_ids, tags={PIPELINE_ID_TAG: pipeline_id}))}
    return next((entry for entry in entries if entry.run_id in ours), None)


def _recorded_watermark(entry: dg.EventLogEntry | None, source: str) -> datetime | None:
    materialization = entry.asset_materialization if entry else None
    if materialization is None:
        return None
    value = materialization.metadata.get(source_key(source)) or materialization.metadata.get(WATERMARK_KEY)
    text = getattr(value, "value", None)
    return datetime.fromisoformat(text) if isinstance(text, str) and text else None
