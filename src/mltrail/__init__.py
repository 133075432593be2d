"""mltrail: fast, safe, MLflow-compatible tracking of ML and LLM work."""

__version__ = "0.1.0"
