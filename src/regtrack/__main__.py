"""`python -m regtrack` runs the CLI."""

from .cli import main

main()
