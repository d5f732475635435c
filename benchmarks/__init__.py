"""Benchmarks: not run by `make test`; each module says how to reproduce its committed results."""
