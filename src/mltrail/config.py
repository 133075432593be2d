"""Configuration: one :class:`Settings` object read from ``MLTRAIL_*`` environment variables.

Only this module reads ``os.environ``. Entry points build a ``Settings`` once (``Settings()``
reads the environment and an optional ``.env`` file) and pass it down; library code never reads
the environment behind the caller's back. Each variable is listed below with its meaning and default.

.. envvar:: MLTRAIL_TRACKING_URI

   Where runs are stored: ``sqlite:///path.db`` (default ``sqlite:///mltrail.db``),
   ``postgresql://...``, ``mysql+pymysql://...`` or ``http(s)://server``.

.. envvar:: MLTRAIL_ARTIFACT_ROOT

   Default artifact root for new experiments of a local store (default ``./mltrail-artifacts``).

.. envvar:: MLTRAIL_ASYNC_LOGGING

   ``true`` (default) batches metric points in a background thread; ``false`` writes each call
   synchronously.

.. envvar:: MLTRAIL_FLUSH_INTERVAL

   Seconds between background flushes of batched metrics (default ``0.5``).

.. envvar:: MLTRAIL_TRUNCATE_LONG_VALUES

   ``true`` (default) truncates over-long param and tag values as MLflow does; ``false`` rejects them.

.. envvar:: MLTRAIL_HTTP_TIMEOUT

   Seconds before an HTTP request to a tracking server times out (default ``60``).

.. envvar:: MLTRAIL_HTTP_MAX_RETRIES

   Retries of transient HTTP failures, with exponential backoff (default ``5``).

.. envvar:: MLTRAIL_TRACKING_TOKEN / MLTRAIL_TRACKING_USERNAME / MLTRAIL_TRACKING_PASSWORD

   Credentials sent to a tracking server (bearer token, or basic auth).

.. envvar:: MLTRAIL_USER

   The user name recorded on new runs (default: the login name of the process).

.. envvar:: MLTRAIL_S3_ENDPOINT_URL

   Endpoint of an S3-compatible object store for ``s3://`` artifact URIs (e.g. MinIO or
   SeaweedFS). When unset, ``AWS_ENDPOINT_URL`` and then ``MLFLOW_S3_ENDPOINT_URL`` are used;
   with none of them set, boto3 talks to AWS. Credentials come from boto3's usual chain
   (``AWS_ACCESS_KEY_ID``/``AWS_SECRET_ACCESS_KEY``, profiles, instance roles).

.. envvar:: MLTRAIL_ENABLE_SYSTEM_METRICS

   ``true`` samples CPU, memory, disk, network and GPU use into ``system/...`` metrics of every
   run started with the fluent API (default ``false``; needs ``mltrail[system-metrics]``).

.. envvar:: MLTRAIL_SYSTEM_METRICS_INTERVAL

   Seconds between two system metrics samples (default ``10``).
"""

from __future__ import annotations

import getpass
import os

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["DEFAULT_ARTIFACT_ROOT", "DEFAULT_TRACKING_URI", "Settings", "current_user"]

DEFAULT_TRACKING_URI = "sqlite:///mltrail.db"
DEFAULT_ARTIFACT_ROOT = "./mltrail-artifacts"


class Settings(BaseSettings):
    """Every tunable of mltrail, read from ``MLTRAIL_*`` variables (and ``.env``) when built.

    Values given as keyword arguments win over the environment, so tests and entry points can
    build an explicit configuration: ``Settings(tracking_uri="sqlite:///:memory:")``.
    """

    model_config = SettingsConfigDict(env_prefix="MLTRAIL_", env_file=".env", extra="ignore", frozen=True)

    tracking_uri: str = Field(default=DEFAULT_TRACKING_URI, description="Store URI.")
    artifact_root: str = Field(default=DEFAULT_ARTIFACT_ROOT, description="Default artifact root.")
    async_logging: bool = Field(default=True, description="Batch metric points in the background.")
    flush_interval: float = Field(default=0.5, gt=0, description="Seconds between background flushes.")
    truncate_long_values: bool = Field(default=True, description="Truncate over-long params/tags.")
    http_timeout: float = Field(default=60.0, gt=0, description="HTTP request timeout in seconds.")
    http_max_retries: int = Field(default=5, ge=0, description="Retries of transient HTTP failures.")
    http_backoff_factor: float = Field(default=0.5, ge=0, description="Backoff base in seconds.")
    tracking_token: str | None = Field(default=None, description="Bearer token for the server.")
    tracking_username: str | None = Field(default=None, description="Basic-auth user name.")
    tracking_password: str | None = Field(default=None, description="Basic-auth password.")
    user: str | None = Field(default=None, description="User recorded on new runs.")
    enable_system_metrics: bool = Field(default=False, description="Sample system metrics into runs.")
    system_metrics_interval: float = Field(default=10.0, gt=0, description="Seconds between samples.")
    model_prices_file: str | None = Field(
        default=None,
        description="JSON or YAML file of LLM prices (USD per million input/output tokens) that "
        "add to or override the built-in ones for trace costs.",
    )
    s3_endpoint_url: str | None = Field(
        default_factory=lambda: _env_first("AWS_ENDPOINT_URL", "MLFLOW_S3_ENDPOINT_URL"),
        description="Endpoint URL of an S3-compatible store (None: AWS).",
    )


def _env_first(*names: str) -> str | None:
    """The first non-empty value among environment variables outside the ``MLTRAIL_`` prefix."""
    for name in names:
        if value := os.environ.get(name):
            return value
    return None


def current_user(settings: Settings) -> str:
    """The user name to record on new runs: ``MLTRAIL_USER`` or the process's login name."""
    if settings.user:
        return settings.user
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no passwd entry in some containers
        return os.environ.get("USER", "unknown")
