"""Dagster building blocks for pipelines compiled by Constellation Agent.

Each module holds the resources and the step functions of one family of block types; generated
``definitions.py`` files wire them together and read every setting from ``pipeline.json``.
"""
