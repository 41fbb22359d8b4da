"""`python -m consilium`: the command line."""

from .engine.cli import run

run()
