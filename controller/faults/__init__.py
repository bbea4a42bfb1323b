"""Faults on a running testbed: which are active, how each is applied (the
kernel way or the in-node way), and the event log that records them."""
