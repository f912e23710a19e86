"""`python -m grokreel` is the `grokreel` command."""

from .cli import main

main()
