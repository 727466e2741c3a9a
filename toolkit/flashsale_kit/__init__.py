"""Drives a running flashsale stack: used by load/, chaos/, tests/ and scripts/, never shipped."""
