"""Benchmarks of the hot paths (`make bench`)."""
