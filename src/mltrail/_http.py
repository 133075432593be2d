"""HTTP sessions and JSON calls for talking to a tracking server or its artifact proxy.

:func:`create_session` returns a ``requests.Session`` that puts a timeout on every request,
retries transient failures only (connection errors, 429, 502, 503, 504) with exponential
backoff, and sends the credentials from :class:`~mltrail.config.Settings`. Deterministic errors
(4xx, and 500, which servers answer for bugs that a retry will not fix) fail at once.

:class:`JsonApi` sends JSON requests to one server through such a session; :func:`query` builds
query parameters and :func:`error_for` maps a failed response onto the error tree (the JSON error
body's ``error_code`` when there is one, else the HTTP status), so the REST stores share them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson
import requests
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from mltrail import __version__
from mltrail.config import Settings
from mltrail.errors import (
    BackendError,
    BadRequestError,
    ConflictError,
    EndpointNotFoundError,
    InternalError,
    InvalidArgumentError,
    MltrailError,
    NotImplementedFeatureError,
    PermissionDeniedError,
    RateLimitedError,
    UnauthenticatedError,
    error_from_code,
)

__all__ = [
    "RETRY_STATUSES",
    "STATUS_ERRORS",
    "JsonApi",
    "QueryParams",
    "TimeoutSession",
    "create_session",
    "error_body",
    "error_for",
    "json_or_none",
    "query",
]

RETRY_STATUSES = frozenset({429, 502, 503, 504})
_BACKOFF_MAX_SECONDS = 30.0
# How much of a non-JSON error body an error message quotes.
_SHOWN_BODY_CHARS = 300

QueryParams = list[tuple[str, str]]

STATUS_ERRORS: Mapping[int, type[MltrailError]] = {
    400: BadRequestError,
    401: UnauthenticatedError,
    403: PermissionDeniedError,
    404: EndpointNotFoundError,
    409: ConflictError,
    422: BadRequestError,
    429: RateLimitedError,
    501: NotImplementedFeatureError,
    502: BackendError,
    503: BackendError,
    504: BackendError,
}
"""The error class for a failed response without a JSON error body, by HTTP status
(:class:`~mltrail.errors.InternalError` for statuses not listed)."""


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


def _query_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def query(**fields: Any) -> QueryParams:
    """Query parameters from keyword arguments.

    None values are dropped, a list or tuple repeats the parameter once per item, booleans are
    sent as ``true``/``false`` and everything else as ``str(value)``.

    Returns:
        ``(name, value)`` pairs in argument order, ready for ``requests``' ``params``.
    """
    params: QueryParams = []
    for name, value in fields.items():
        if value is None:
            continue
        if isinstance(value, list | tuple):
            params.extend((name, _query_value(v)) for v in value)
        else:
            params.append((name, _query_value(value)))
    return params


def json_or_none(response: requests.Response) -> Any:
    """The response body parsed as JSON, or None when it is not JSON."""
    try:
        return orjson.loads(response.content)
    except orjson.JSONDecodeError:
        return None


def error_body(body: Any) -> MltrailError | None:
    """The error that a decoded MLflow wire error body names, if it is one.

    Args:
        body: A decoded JSON body; an error body is an object with ``error_code`` and optionally
            ``message`` and ``details``.

    Returns:
        The error of the class that ``error_code`` maps to, or None for any other body.
    """
    if isinstance(body, Mapping) and "error_code" in body:
        return error_from_code(str(body["error_code"]), str(body.get("message", "")), body.get("details"))
    return None


def error_for(response: requests.Response) -> MltrailError:
    """The mltrail error for a failed response of a REST API.

    A JSON error body decides the class and message (see :func:`error_body`). Otherwise the
    class comes from :data:`STATUS_ERRORS`: a 404 means no route answers (the server may be an
    older or a different server), a 400 or 422 a malformed request, and the message quotes the
    start of the body.

    Args:
        response: A response whose status is not a success.

    Returns:
        The error to raise.
    """
    found = error_body(json_or_none(response))
    if found is not None:
        return found
    status = response.status_code
    text = response.text[:_SHOWN_BODY_CHARS]
    cls = STATUS_ERRORS.get(status, InternalError)
    if status == 404:
        return cls(f"Endpoint not found: {response.request.method} {response.url}")
    if cls is BadRequestError:
        return cls(f"Bad request: {text}")
    return cls(f"HTTP {status} from {response.url}: {text}")


class JsonApi:
    """JSON requests to one server's REST API, with failures mapped onto the error tree.

    Args:
        base_url: The server's base URL, e.g. ``http://127.0.0.1:5000`` (a path prefix is kept,
            a trailing slash dropped).
        settings: Timeouts, retries and credentials of the HTTP session.
        prefix: The API path that :meth:`call` puts before a path unless told otherwise, e.g.
            ``/api/2.0/mlflow``.

    Attributes:
        base_url: ``base_url`` without a trailing slash.
        session: The HTTP session (see :func:`create_session`).
    """

    def __init__(self, base_url: str, settings: Settings, *, prefix: str = "") -> None:
        self.base_url = base_url.rstrip("/")
        self.prefix = prefix
        self.session = create_session(settings)

    def send(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        """Send one request and return the 200 response.

        Args:
            method: The HTTP method.
            path: The path below the base URL, starting with ``/``.
            **kwargs: Passed on to ``requests`` (``params``, ``data``, ``headers``, ...).

        Returns:
            The response, whose status is 200.

        Raises:
            BackendError: the server cannot be reached.
            MltrailError: the server answered another status (see :func:`error_for`).
        """
        try:
            response = self.session.request(method, f"{self.base_url}{path}", **kwargs)
        except requests.RequestException as exc:
            raise BackendError(f"Cannot reach the tracking server at {self.base_url}: {exc}") from exc
        if response.status_code != 200:
            raise error_for(response)
        return response

    def call(
        self,
        method: str,
        path: str,
        *,
        body: Mapping[str, Any] | None = None,
        params: QueryParams | None = None,
        prefix: str | None = None,
    ) -> dict[str, Any]:
        """Call one JSON endpoint.

        Args:
            method: The HTTP method.
            path: The endpoint below the prefix, e.g. ``runs/get``.
            body: The JSON request body, if any.
            params: Query parameters (see :func:`query`).
            prefix: The API path before ``path`` (the one given at construction when None).

        Returns:
            The decoded response object; ``{}`` for an empty body.

        Raises:
            BackendError: the server cannot be reached, or answered something that is not a
                JSON object.
            InvalidArgumentError: the response body is malformed JSON.
            MltrailError: the server answered an error (see :func:`error_for`).
        """
        url_path = f"{self.prefix if prefix is None else prefix}/{path}"
        data = None
        headers = None
        if body is not None:
            data = orjson.dumps(body, option=orjson.OPT_NON_STR_KEYS)
            headers = {"Content-Type": "application/json"}
        response = self.send(method, url_path, params=params, data=data, headers=headers)
        if not response.content.strip():
            return {}
        try:
            result = orjson.loads(response.content)
        except orjson.JSONDecodeError as exc:
            raise InvalidArgumentError(f"Malformed JSON: {exc}") from exc
        if not isinstance(result, dict):
            raise BackendError(f"Unexpected response from {self.base_url}{url_path}: not a JSON object")
        return result

    def close(self) -> None:
        """Close the HTTP session."""
        self.session.close()
