"""Benchmarks of the generator and of the service it generates; run `python benchmarks/run.py --help`."""
