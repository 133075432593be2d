"""Shared test helpers: service fixtures, fresh databases, store and repository registries."""
