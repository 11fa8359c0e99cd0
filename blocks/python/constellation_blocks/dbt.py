"""dbt run and dbt test: a dbt project's models as Dagster assets, and its tests as asset checks.

``dbt_run@1`` is dagster-dbt's ``@dbt_assets`` over the manifest the deploy parsed (see
``dbt_project``): one asset per model (and seed, snapshot), keyed [org, pipeline, block, model],
running ``dbt build`` or ``dbt run`` for the selected models. Its assets carry no checks: a
pipeline tests its models with a ``dbt_test@1`` block, a ``multi_asset_check`` on the models of
the dbt_run block it is connected to, which runs ``dbt test`` and reports each dbt test as the
check of the model it tests. A failing test is a failed check (a warning, one of severity WARN),
not a failed run; only a dbt that cannot run at all fails the step.

No ``from __future__ import annotations``: Dagster checks the ``context`` annotation as a class.
"""

from collections.abc import Iterator, Mapping
from typing import Any, NamedTuple

import dagster as dg
from dagster._core.definitions.asset_checks.asset_check_evaluation import AssetCheckEvaluation
from dagster_dbt import dbt_assets
from dagster_dbt.asset_utils import DAGSTER_DBT_UNIQUE_ID_METADATA_KEY, build_dbt_specs

from constellation_blocks.building import BlockContext, BuiltBlock
from constellation_blocks.dbt_project import BlockTranslator, checked_config, cli_args, cli_resource, load_manifest
from constellation_blocks.duckdb_steps import dbt_op_tags
from constellation_blocks.pipeline import PipelineFileError

RUN_TYPE = "dbt_run@1"


class DbtTest(NamedTuple):
    """A dbt test behind one of the block's checks: the check key dagster-dbt gives it, and its dbt name."""

    dbt_key: dg.AssetCheckKey
    name: str


def build_run(ctx: BlockContext) -> BuiltBlock:
    """The dbt_run block's models as one subsettable multi-asset (dagster-dbt's ``@dbt_assets``)."""
    block, pipeline = ctx.block, ctx.pipeline
    config = checked_config(block, pipeline.source)
    manifest = load_manifest(pipeline, block.id)
    args = ctx.asset_args()
    where = f"{pipeline.source}: blocks.{block.id}"
    translator = BlockTranslator(ctx.key, args, ctx.upstream_tables("sources"), where, checks=False)
    command = [config["command"], *(["--full-refresh"] if config.get("full_refresh") else []), *cli_args(config)]

    @dbt_assets(
        manifest=manifest,
        select=config["select"],
        exclude=config.get("exclude"),
        name="__".join(ctx.key.path),
        dagster_dbt_translator=translator,
        partitions_def=args.get("partitions_def"),
        retry_policy=args.get("retry_policy"),
        op_tags=dbt_op_tags(manifest),
    )
    def models(context: dg.AssetExecutionContext):
        # dagster-dbt narrows the selection to the assets this run materializes.
        yield from cli_resource(block.id, config).cli(command, context=context).stream()

    keys = tuple(models.keys)
    if not keys:
        raise PipelineFileError(f"{where}.config.select {config['select']!r} selects no model of the dbt project.")
    return BuiltBlock(assets=[models], keys=keys)


def build_test(ctx: BlockContext) -> BuiltBlock:
    """The dbt_test block: one asset check per dbt test of the upstream dbt_run block's models."""
    block, pipeline = ctx.block, ctx.pipeline
    config = checked_config(block, pipeline.source)
    where = f"{pipeline.source}: blocks.{block.id}"
    run_id = _run_block(ctx, where)
    manifest = load_manifest(pipeline, block.id)
    models = set(ctx.upstream_keys("models"))
    translator = BlockTranslator(
        pipeline.asset_key(run_id), pipeline.asset_args(run_id), ctx.upstream_tables("sources", run_id), where, checks=True
    )
    _, check_specs = build_dbt_specs(
        translator=translator,
        manifest=manifest,
        select=config["select"],
        exclude=config.get("exclude") or "",
        selector="",
        io_manager_key=None,
        project=None,
    )
    # Non-blocking: a failed test is reported, and the models downstream still run.
    # A second dbt_test block on the same models names its checks after itself: check keys are unique per location.
    taken = {key for built in ctx.built.values() for key in built.check_keys}
    specs, tests = [], {}
    for spec in check_specs:
        if spec.asset_key not in models:
            continue
        name = f"{block.id}__{spec.name}" if spec.key in taken else spec.name
        # Non-blocking: a failed test is reported, and the models downstream still run.
        ours = dg.AssetCheckSpec(
            name=name,
            asset=spec.asset_key,
            description=spec.description,
            additional_deps=spec.additional_deps,
            metadata=spec.metadata,
            blocking=False,
        )
        specs.append(ours)
        tests[ours.key] = DbtTest(spec.key, manifest["nodes"][spec.metadata[DAGSTER_DBT_UNIQUE_ID_METADATA_KEY]]["name"])
    if not specs:
        raise PipelineFileError(
            f"{where}.config.project_dir: the dbt project has no test of the models block {run_id} makes "
            f"(select {config['select']!r}); connect this block to the dbt_run block of the same project."
        )
    fail_on_warning = bool(config.get("fail_on_warning"))

    @dg.multi_asset_check(
        name="__".join(ctx.key.path),
        specs=specs,
        can_subset=True,
        description=f"dbt test on the models of block {run_id}.",
        retry_policy=ctx.asset_args().get("retry_policy"),
        op_tags=dbt_op_tags(manifest),
    )
    def dbt_tests(context: dg.AssetCheckExecutionContext):
        selected = [key for key in tests if key in context.selected_asset_check_keys]
        yield from run_tests(context, block.id, config, manifest, translator, {key: tests[key] for key in selected}, fail_on_warning)

    return BuiltBlock(checks=[dbt_tests])


def run_tests(
    context: dg.AssetCheckExecutionContext,
    block_id: str,
    config: Mapping[str, Any],
    manifest: Mapping[str, Any],
    translator: BlockTranslator,
    tests: Mapping[dg.AssetCheckKey, DbtTest],
    fail_on_warning: bool,
) -> Iterator[dg.AssetCheckResult]:
    """Runs ``dbt test`` for ``tests`` (the block's check keys → dbt tests) and yields one result per test."""
    invocation = cli_resource(block_id, config).cli(
        ["test", "--select", " ".join(sorted({test.name for test in tests.values()})), *cli_args(config)],
        manifest=manifest,
        dagster_dbt_translator=translator,
        raise_on_error=False,
    )
    ours = {test.dbt_key: key for key, test in tests.items()}
    reported: set[dg.AssetCheckKey] = set()
    for event in invocation.stream_raw_events():
        for evaluation in event.to_default_asset_events(manifest=manifest, dagster_dbt_translator=translator):
            key = ours.get(evaluation.asset_check_key) if isinstance(evaluation, AssetCheckEvaluation) else None
            if key is None or key in reported:
                continue
            reported.add(key)
            yield _result(evaluation, key, fail_on_warning)
    missing = [key for key in tests if key not in reported]
    if missing and not invocation.is_successful() and not reported:
        # dbt itself did not run (no profile, no database): a broken environment, not a failed test.
        raise dg.Failure(f"dbt test did not run for blocks.{block_id}: {_dbt_errors(invocation)}")
    for key in missing:
        context.log.warning(f"dbt reported no result for test {tests[key].name}")
        yield dg.AssetCheckResult(
            asset_key=key.asset_key,
            check_name=key.name,
            passed=False,
            metadata={"status": "no result", "reason": "dbt test ran but reported no result for this test"},
        )


def _result(evaluation: AssetCheckEvaluation, key: dg.AssetCheckKey, fail_on_warning: bool) -> dg.AssetCheckResult:
    """dagster-dbt's evaluation as the result of the check ``key``; with ``fail_on_warning``, a warning is an error."""
    severity = evaluation.severity
    if fail_on_warning and severity == dg.AssetCheckSeverity.WARN:
        severity = dg.AssetCheckSeverity.ERROR
    return dg.AssetCheckResult(
        asset_key=key.asset_key,
        check_name=key.name,
        passed=evaluation.passed,
        severity=severity,
        metadata={key: value for key, value in evaluation.metadata.items()},
    )


def _dbt_errors(invocation: Any) -> str:
    """dbt's own error lines, as dagster-dbt collected them from its log."""
    error = invocation.get_error()
    return str(error) if error else "dbt exited without running any test"


def _run_block(ctx: BlockContext, where: str) -> str:
    """The id of the dbt_run block feeding the dbt_test block's ``models`` port."""
    upstream = [u for port in ctx.pipeline.inputs(ctx.block_id) if port.port == "models" for u in port.upstream]
    runs = [u for u in upstream if ctx.pipeline.block(u).type == RUN_TYPE]
    if len(runs) != 1:
        raise PipelineFileError(f"{where}.inputs: the models port must be fed by one dbt_run block, got {upstream or 'none'}.")
    return runs[0]
