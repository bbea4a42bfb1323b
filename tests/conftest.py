"""Settings for the whole test session."""

import os

# The CLI's consoles wrap at the terminal's width, which under pytest is 80
# columns: long paths (a deep checkout) would break the lines tests look for.
os.environ.setdefault("COLUMNS", "400")

# Commands the tests run start no Prometheus of their own (it would outlive
# them); the monitoring tests start and stop theirs explicitly.
os.environ.setdefault("HEAL_MONITORING", "off")
