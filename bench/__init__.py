"""Benchmarks: each prints one JSON line per run with its ratio against a baseline measured in the same run."""
