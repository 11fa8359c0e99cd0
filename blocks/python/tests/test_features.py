"""feature_engineering@1 called directly, each expected value worked out by hand from ORDERS."""

from datetime import datetime, timezone

import dagster as dg
import pytest

from constellation_blocks import block_types
from constellation_blocks.features import engineer_features, feature_table
from constellation_blocks.pipeline import Block
from constellation_blocks.rows import ExtractedRows

UTC = timezone.utc


def at(day: int, hour: int = 0, month: int = 1, year: int = 2024) -> datetime:
    return datetime(year, month, day, hour, tzinfo=UTC)


# customer_id, total, items, created_at. The latest row is customer 3's, at 2024-01-10T00:00.
ORDERS = [
    (1, 10, 2, at(1, 10)),
    (1, 1, 1, at(3)),  # exactly 7 days before the latest row: outside (as_of - 7d, as_of]
    (1, 20, 4, at(5)),
    (1, 30, 3, at(9, 12)),
    (2, 100, 1, at(20, month=12, year=2023)),
    (2, 5, 0, at(8)),
    (3, 7, 2, at(10)),
]


def rows(data=ORDERS, columns=("customer_id", "total", "items", "created_at"), types=("bigint", "bigint", "integer", "timestamp with time zone")) -> ExtractedRows:
    return ExtractedRows(
        table="public.orders", columns=list(columns), rows=list(data), primary_key=["id"], previous_watermark=None,
        watermark=None, column_types=list(types), nullable=[True] * len(columns), source="orders",
    )


def config(*features: dict, **more) -> dict:
    base = {"entity_key": ["customer_id"], "timestamp_column": "created_at", "features": list(features)}
    return block_types.with_defaults("feature_engineering@1", {**base, **more})


def compute(cfg: dict, data: ExtractedRows | None = None, partition_end: datetime | None = None) -> list[tuple]:
    table, _ = feature_table(data or rows(), cfg, "blocks.features.config", partition_end)
    return [tuple(r.values()) for r in table.to_pylist()]


ALL = [
    {"name": "orders_7d", "aggregation": "count", "window": "7d"},
    {"name": "revenue_7d", "aggregation": "sum", "column": "total", "window": "7d"},
    {"name": "mean_7d", "aggregation": "mean", "column": "total", "window": "7d"},
    {"name": "orders", "aggregation": "count"},
    {"name": "revenue", "aggregation": "sum", "column": "total"},
    {"name": "smallest", "aggregation": "min", "column": "total"},
    {"name": "largest", "aggregation": "max", "column": "total"},
    {"name": "last_total", "aggregation": "last", "column": "total"},
    {"name": "last_item_price", "expression": "total / nullif(items, 0)"},
]


def test_windowed_and_all_history_aggregations_as_of_the_latest_row():
    assert compute(config(*ALL)) == [
        # 7d window (2024-01-03T00:00, 2024-01-10T00:00]: customer 1's orders of the 5th and 9th.
        (1, 2, 50, 25.0, 4, 61, 1, 30, 30, 10.0),
        (2, 1, 5, 5.0, 2, 105, 5, 100, 5, None),  # latest order has 0 items: nullif gives NULL
        (3, 1, 7, 7.0, 1, 7, 7, 7, 7, 3.5),
    ]


def test_a_partitioned_run_uses_rows_before_the_end_of_its_window_only():
    # Daily partition 2024-01-08 ends at 2024-01-09T00:00: the order of the 9th at noon and customer 3's
    # of the 10th are in its future; the 7d window is [2024-01-02, 2024-01-09).
    assert compute(config(*ALL), partition_end=at(9)) == [
        (1, 2, 21, 10.5, 3, 31, 1, 20, 20, 5.0),
        (2, 1, 5, 5.0, 2, 105, 5, 100, 5, None),
    ]
    one_day = config({"name": "orders_1d", "aggregation": "count", "window": "1d"}, {"name": "last_1d", "aggregation": "last", "column": "total", "window": "24h"})
    assert compute(one_day, partition_end=at(9)) == [(1, 0, None), (2, 1, 5)]  # exactly the partition's day


def test_last_and_expressions_break_timestamp_ties_by_input_order_and_keep_nulls():
    data = rows([(1, 1, 1, at(1)), (1, 2, None, at(2)), (1, 3, 5, at(1))])
    cfg = config({"name": "last_items", "aggregation": "last", "column": "items"}, {"name": "double", "expression": "total * 2"})
    assert compute(cfg, data) == [(1, None, 4)]
    tie = rows([(1, 1, 1, at(2)), (1, 2, 2, at(2))])
    assert compute(config({"name": "last_total", "aggregation": "last", "column": "total"}), tie) == [(1, 2)]


def test_without_timestamp_column_every_row_counts_and_last_is_the_last_row():
    data = rows([(2, 5, 1), (1, 10, 2), (2, 6, 3)], columns=("customer_id", "total", "items"), types=("bigint", "bigint", "integer"))
    cfg = config({"name": "n", "aggregation": "count", "column": "items"}, {"name": "last_items", "expression": "items"}, timestamp_column=None)
    del cfg["timestamp_column"]
    assert compute(cfg, data) == [(1, 1, 2), (2, 2, 3)]


def test_several_entity_key_columns():
    data = rows([("eu", 1, 3), ("us", 1, 4), ("eu", 1, 5), ("eu", 2, 1)], columns=("region", "customer_id", "total"), types=("text", "bigint", "bigint"))
    cfg = {"entity_key": ["region", "customer_id"], "features": [{"name": "revenue", "aggregation": "sum", "column": "total"}], "output_table": "f"}
    assert compute(cfg, data) == [("eu", 1, 8), ("eu", 2, 1), ("us", 1, 4)]


def test_the_step_names_the_output_table_keys_it_by_the_entity_and_records_as_of():
    block = Block("features", "feature_engineering@1", "Features", None, config(ALL[0], output_table="customer_features"), [])
    out = engineer_features(dg.build_asset_context(), block, rows())
    assert (out.value.table, out.value.source, out.value.primary_key) == ("customer_features", "features", ["customer_id"])
    assert out.value.columns == ["customer_id", "orders_7d"] and out.value.column_types == ["bigint", "bigint"]
    assert out.metadata["as_of"].value == "2024-01-10T00:00:00+00:00"


@pytest.mark.parametrize(
    ("features", "more", "expected"),
    [
        ([{"name": "revenue", "aggregation": "sum", "column": "totl"}], {}, r"features\[0\]\.column: feature revenue aggregates column 'totl', which the input does not have; it has: customer_id, total"),
        ([{"name": "n", "aggregation": "count", "window": "7d"}], {"timestamp_column": None}, r"features\[0\]\.window is set \(7d\) but blocks\.features\.config\.timestamp_column is not"),
        ([{"name": "ratio", "expression": "totl / 2"}], {}, r"features\[0\]\.expression cannot be evaluated on each row of the input: .*totl.*only the input tables \"orders\""),
        ([{"name": "x", "expression": "1) AS a, (2"}], {}, r"features\[0\]\.expression must be one SQL expression"),
        ([{"name": "x", "expression": "1) FROM orders --"}], {}, r"features\[0\]\.expression must be one SQL expression"),
        ([{"name": "x", "expression": "1; SELECT 2"}], {}, r"features\[0\]\.expression must be one SQL expression"),
        ([{"name": "x", "expression": "(SELECT count(*) FROM read_csv('/etc/passwd'))"}], {}, r"expression cannot be evaluated on each row of the input: .*Cannot access file \"/etc/passwd\""),
        ([{"name": "x", "expression": "sum(total)"}], {}, r"features\[0\]\.expression cannot be evaluated on each row of the input: .*GROUP BY"),
        ([{"name": "x", "expression": "*"}], {}, r"features\[0\]\.expression must give one value per row"),
        ([{"name": "x", "aggregation": "sum"}], {}, r"features\[0\] \(x\): aggregation 'sum' needs column"),
        ([{"name": "customer_id", "aggregation": "count"}], {}, r"features\[0\]\.name 'customer_id' is already a column"),
        ([{"name": "n", "aggregation": "count"}], {"entity_key": ["client"]}, r"entity_key: the input has no column 'client'"),
        ([{"name": "n", "aggregation": "count"}], {"timestamp_column": "total"}, r"timestamp_column 'total' holds int64, not timestamps"),
    ],
)
def test_config_errors_name_the_field_and_feature(features, more, expected):
    cfg = config(*features, **more)
    cfg = {key: value for key, value in cfg.items() if value is not None}
    with pytest.raises(dg.Failure, match=expected):
        compute(cfg)


def test_an_expression_may_use_a_window_function_and_comments():
    cfg = config({"name": "growth", "expression": "total - lag(total) OVER (PARTITION BY customer_id ORDER BY created_at) -- since the previous order"})
    assert compute(cfg) == [(1, 10), (2, -95), (3, None)]


def test_a_subquery_in_an_expression_reads_the_input_by_its_upstream_id():
    cfg = config({"name": "share", "expression": "total * 1.0 / (SELECT sum(total) FROM orders)"})
    assert [r[1] for r in compute(cfg)] == [pytest.approx(30 / 173), pytest.approx(5 / 173), pytest.approx(7 / 173)]
