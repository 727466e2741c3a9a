"""Helpers for the integration and end-to-end tests (importable as `support`)."""
