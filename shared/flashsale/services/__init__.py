"""The service layer: plain functions over the ports."""
