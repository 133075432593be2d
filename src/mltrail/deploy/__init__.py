"""Deployment recipes for served models: Dockerfiles and Kubernetes manifests, written as text."""
