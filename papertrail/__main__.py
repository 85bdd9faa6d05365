"""`python -m papertrail`: the command line. May import: cli."""

from papertrail.cli import main

if __name__ == "__main__":
    main()
