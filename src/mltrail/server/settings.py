"""Options of ``mltrail server``: one :class:`ServerSettings`, from ``MLTRAIL_SERVER_*`` or CLI flags.

.. envvar:: MLTRAIL_SERVER_BACKEND_STORE_URI

   Where runs are stored (default ``sqlite:///mltrail.db``).

.. envvar:: MLTRAIL_SERVER_ARTIFACTS_DESTINATION

   Storage behind the artifact proxy (default ``./mltrail-artifacts``).

.. envvar:: MLTRAIL_SERVER_DEFAULT_ARTIFACT_ROOT

   Artifact root of new experiments (default ``mlflow-artifacts:/`` when serving artifacts,
   else the destination).

.. envvar:: MLTRAIL_SERVER_SERVE_ARTIFACTS

   ``true`` (default) serves the artifact proxy; ``false`` makes its routes answer 503.

.. envvar:: MLTRAIL_SERVER_HOST / MLTRAIL_SERVER_PORT / MLTRAIL_SERVER_WORKERS

   Bind address (default ``127.0.0.1``), port (``5000``) and worker processes (``1``).
"""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from mltrail.config import DEFAULT_ARTIFACT_ROOT, DEFAULT_TRACKING_URI

__all__ = ["PROXY_ARTIFACT_ROOT", "ServerSettings"]

PROXY_ARTIFACT_ROOT = "mlflow-artifacts:/"


class ServerSettings(BaseSettings):
    """Every option of the tracking server; keyword arguments win over the environment."""

    model_config = SettingsConfigDict(env_prefix="MLTRAIL_SERVER_", extra="ignore", frozen=True)

    backend_store_uri: str = Field(default=DEFAULT_TRACKING_URI, description="Tracking store URI.")
    artifacts_destination: str = Field(
        default=DEFAULT_ARTIFACT_ROOT, description="Storage behind the artifact proxy."
    )
    default_artifact_root: str | None = Field(default=None, description="Artifact root of new experiments.")
    serve_artifacts: bool = Field(default=True, description="Serve the artifact proxy routes.")
    host: str = Field(default="127.0.0.1", description="Bind address.")
    port: int = Field(default=5000, ge=0, le=65535, description="Bind port.")
    workers: int = Field(default=1, ge=1, description="Worker processes.")

    @property
    def effective_artifact_root(self) -> str:
        """The root new experiments get: explicit, else the proxy scheme, else the destination."""
        if self.default_artifact_root:
            return self.default_artifact_root
        return PROXY_ARTIFACT_ROOT if self.serve_artifacts else self.artifacts_destination
