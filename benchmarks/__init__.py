"""Speed, latency and memory benchmarks (issue #5): scripts that print figures.

Every figure is printed next to a baseline measured in the same run, as a ratio,
because absolute numbers on a shared machine drift from run to run. Run each script
with ``python -m benchmarks.<name> --help`` from the repository root.
"""
