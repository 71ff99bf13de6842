"""``python -m sherpa_bench``: the command line without its console script (e.g. on a machine where
the package is on PYTHONPATH but not installed)."""

from sherpa_bench.harness.cli import main

main()
