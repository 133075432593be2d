"""The model registry: registered models, their versions, stages, tags, aliases and alias history."""
