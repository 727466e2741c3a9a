"""Inspect the pipeline's X-Ray traces: list recent ones, show one as a timeline."""
