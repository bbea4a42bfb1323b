"""Reports on a run: what was observed, which faults held when, and how the
testbed recovered, as CSV tables, plots and a summary."""
