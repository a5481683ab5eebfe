"""Speed, latency and memory benchmarks (issue #5): scripts that print figures.

Every figure is printed next to a baseline measured in the same run, as a ratio,
because absolute numbers on a shared machine drift from run to run. From the
repository root (each takes under about a minute; ``--help`` lists the knobs)::

    python -m benchmarks.ingest      # msgs/s: raw recv ceiling, seed handler, our pipeline
    python -m benchmarks.ingest --profile /tmp/ingest.stacks   # + py-spy hot spots
    python -m benchmarks.latency     # tick-to-snapshot p50/p99/max at 5k and 20k ticks/s
    python -m benchmarks.snapshot    # snapshot(), UI builders, AppTest page runs
    python -m benchmarks.memory      # RSS after each million ticks over 1,000 symbols
    python -m benchmarks.firehose    # just serve the firehose (ports printed)

``benchmarks.firehose.Firehose`` is the loopback AllTick push server they share (also
used by ``tests/test_soak.py``). It runs in its own process, so callers' main modules
must be import-safe (``if __name__ == "__main__":``), as ``multiprocessing`` requires.
"""
