"""papertrail: follow machine-learning research from one local SQLite reading list."""

__version__ = "0.1.0"
