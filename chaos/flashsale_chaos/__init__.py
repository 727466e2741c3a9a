"""Fault injection against the running pipeline: bounded load, one fault, then an audit."""
