#!/usr/bin/env bash
# Prints the GraphQL schema of the pinned dagster-graphql into the repo; the documents test checks
# every query we send against it. Run after changing the Dagster pin.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/python-env.sh
.venv/bin/python -c "from dagster_graphql.schema import create_schema; print(create_schema())" > src/adapters/dagster/schema.graphql
