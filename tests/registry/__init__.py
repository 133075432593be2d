"""Tests of the registry client and fluent registry functions."""
