"""The `mltrail` command line; `mltrail.cli.main:main` is the console script."""
