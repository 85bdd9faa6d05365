"""`python -m papertrail`: the command line. May import: cli."""

from papertrail.cli import cli

if __name__ == "__main__":
    cli()
