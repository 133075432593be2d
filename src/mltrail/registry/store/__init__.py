"""Registry store contract and its SQL and REST implementations."""
