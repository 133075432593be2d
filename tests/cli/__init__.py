"""Tests of the `mltrail` command line."""
