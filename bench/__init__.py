"""Benchmarks that print tables (not timed tests)."""
