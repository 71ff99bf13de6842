"""The harness owns the run: configuration, training loop, evaluation loop, run records and the CLI."""
