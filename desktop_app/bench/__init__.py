"""Benchmarks behind `desktop-app bench ...`: each prints one JSON object."""
