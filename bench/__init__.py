"""Benchmarks: each prints one line, our rate as a ratio of the raw limit measured in the same run."""
