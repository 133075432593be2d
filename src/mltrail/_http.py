"""HTTP sessions for talking to a tracking server or its artifact proxy.

:func:`create_session` returns a ``requests.Session`` that puts a timeout on every request,
retries transient failures only (connection errors, 429, 502, 503, 504) with exponential
backoff, and sends the credentials from :class:`~mltrail.config.Settings`. Deterministic errors
(4xx, and 500, which servers answer for bugs that a retry will not fix) fail at once.
"""

from __future__ import annotations

from typing import Any

import requests
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from mltrail import __version__
from mltrail.config import Settings

__all__ = ["RETRY_STATUSES", "TimeoutSession", "create_session"]

RETRY_STATUSES = frozenset({429, 502, 503, 504})
_BACKOFF_MAX_SECONDS = 30.0


class TimeoutSession(requests.Session):
    """A session whose requests always carry a timeout (``settings.http_timeout`` by default).

    Args:
        timeout: Seconds for connecting and for each read; a request may pass its own.
    """

    def __init__(self, timeout: float) -> None:
        super().__init__()
        self.timeout = timeout

    def request(self, method: str | bytes, url: str | bytes, *args: Any, **kwargs: Any) -> requests.Response:
        """Send a request, with the session's timeout unless one is given."""
        if kwargs.get("timeout") is None:
            kwargs["timeout"] = self.timeout
        return super().request(method, url, *args, **kwargs)


def _retry_policy(settings: Settings) -> Retry:
    retries = settings.http_max_retries
    return Retry(
        total=retries,
        connect=retries,
        read=retries,
        status=retries,
        other=0,
        # Every method: MLflow RPCs are POSTs, and the transient statuses above mean the server
        # did not process the request (or processed an idempotent one).
        allowed_methods=None,
        status_forcelist=RETRY_STATUSES,
        backoff_factor=settings.http_backoff_factor,
        backoff_max=_BACKOFF_MAX_SECONDS,
        respect_retry_after_header=True,
        raise_on_status=False,
    )


def create_session(settings: Settings) -> TimeoutSession:
    """Build a session for one server.

    Args:
        settings: Supplies the timeout, the retry budget and backoff, and the credentials
            (``tracking_token`` as a bearer token, else ``tracking_username``/``tracking_password``
            as basic auth).

    Returns:
        A configured session; close it when done.
    """
    session = TimeoutSession(settings.http_timeout)
    adapter = HTTPAdapter(max_retries=_retry_policy(settings), pool_connections=4, pool_maxsize=32)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    session.headers["User-Agent"] = f"mltrail/{__version__}"
    if settings.tracking_token:
        session.headers["Authorization"] = f"Bearer {settings.tracking_token}"
    elif settings.tracking_username is not None and settings.tracking_password is not None:
        session.auth = (settings.tracking_username, settings.tracking_password)
    return session
