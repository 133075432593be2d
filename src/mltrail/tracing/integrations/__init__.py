"""Auto-tracing integrations with third-party LLM libraries (each imports its library lazily)."""
