"""Settings for the whole test session."""

import os

# The CLI's consoles wrap at the terminal's width, which under pytest is 80
# columns: long paths (a deep checkout) would break the lines tests look for.
os.environ.setdefault("COLUMNS", "400")
