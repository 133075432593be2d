"""Artifact repositories: where the files of runs and models live."""
