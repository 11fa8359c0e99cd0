"""Code location ``constellation_system``: the block library's own jobs, one such location per environment.

Every workspace.yaml Constellation Agent writes lists it first, as a ``python_module`` entry
loaded from the installed block library with the environment's Python (src/dagster/workspace.ts),
so there are no files of ours to write for it. It holds the source inspection job
(inspect_source.py): that job must run where the environment's pipelines run, with that Dagster's
variables, so the secret a source's config names is read there and never by the service. Here it
can run before any pipeline is deployed ("look before you build"), and never in another org's
shard; shards hold their pipelines only.
"""

import dagster as dg

from constellation_blocks import inspect_source

LOCATION_NAME = "constellation_system"

defs = dg.Definitions(jobs=[inspect_source.inspect_source_job])
