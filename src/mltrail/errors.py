"""The one error tree of mltrail.

Every failure that crosses a public API is an :class:`MltrailError`. Each class knows the MLflow
wire ``error_code`` it maps to and the HTTP status the server answers with, so that the server's
single error handler and the REST client's decoder agree (``except NotFoundError`` works the same
whether the store is local or behind a server)::

    MltrailError(message, *, details=None)         error_code            status
    ├── InvalidArgumentError                        INVALID_PARAMETER_VALUE  400
    │   └── BadRequestError                         BAD_REQUEST              400
    ├── AlreadyExistsError                          RESOURCE_ALREADY_EXISTS  400 (MLflow wire)
    ├── UnauthenticatedError                        UNAUTHENTICATED          401
    ├── PermissionDeniedError                       PERMISSION_DENIED        403
    ├── NotFoundError                               RESOURCE_DOES_NOT_EXIST  404
    │   └── EndpointNotFoundError                   ENDPOINT_NOT_FOUND       404
    ├── ConflictError                               RESOURCE_CONFLICT        409
    ├── InvalidStateError                           INVALID_STATE            400 (MLflow: 500)
    ├── RateLimitedError                            REQUEST_LIMIT_EXCEEDED   429
    ├── InternalError                               INTERNAL_ERROR           500
    ├── NotImplementedFeatureError                  NOT_IMPLEMENTED          501
    ├── BackendError                                TEMPORARILY_UNAVAILABLE  503
    └── MissingDependencyError (also ImportError)   INTERNAL_ERROR           500

``InvalidStateError`` answers 400 instead of MLflow's 500 so that clients, which retry 5xx for
minutes, fail fast on a deterministic user error (see docs/compatibility.md).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

__all__ = [
    "AlreadyExistsError",
    "BackendError",
    "BadRequestError",
    "ConflictError",
    "EndpointNotFoundError",
    "InternalError",
    "InvalidArgumentError",
    "InvalidStateError",
    "MissingDependencyError",
    "MltrailError",
    "NotFoundError",
    "NotImplementedFeatureError",
    "PermissionDeniedError",
    "RateLimitedError",
    "UnauthenticatedError",
    "error_from_code",
    "status_for_code",
]


class MltrailError(Exception):
    """Base class of every mltrail error.

    Args:
        message: Human-readable explanation, sent on the wire as ``message``.
        details: Optional structured context (never secrets), sent as ``details``.
    """

    error_code: ClassVar[str] = "INTERNAL_ERROR"
    status_code: ClassVar[int] = 500

    def __init__(self, message: str, *, details: Mapping[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details: dict[str, Any] = dict(details or {})

    def to_dict(self) -> dict[str, Any]:
        """Return the JSON error body of the MLflow wire protocol."""
        body: dict[str, Any] = {"error_code": self.error_code, "message": self.message}
        if self.details:
            body["details"] = self.details
        return body


class InvalidArgumentError(MltrailError):
    """The caller sent a value that breaks a rule (a limit, a format, a required field)."""

    error_code = "INVALID_PARAMETER_VALUE"
    status_code = 400


class BadRequestError(InvalidArgumentError):
    """The request itself is malformed (body, content type, encoding)."""

    error_code = "BAD_REQUEST"
    status_code = 400


class AlreadyExistsError(MltrailError):
    """A resource with that identity already exists (MLflow answers 400 for this)."""

    error_code = "RESOURCE_ALREADY_EXISTS"
    status_code = 400


class UnauthenticatedError(MltrailError):
    """No valid credentials were presented."""

    error_code = "UNAUTHENTICATED"
    status_code = 401


class PermissionDeniedError(MltrailError):
    """The principal is known but lacks the permission the action needs."""

    error_code = "PERMISSION_DENIED"
    status_code = 403


class NotFoundError(MltrailError):
    """The named resource does not exist."""

    error_code = "RESOURCE_DOES_NOT_EXIST"
    status_code = 404


class EndpointNotFoundError(NotFoundError):
    """No route answers at that path."""

    error_code = "ENDPOINT_NOT_FOUND"
    status_code = 404


class ConflictError(MltrailError):
    """A concurrent change made the request conflict with stored state."""

    error_code = "RESOURCE_CONFLICT"
    status_code = 409


class InvalidStateError(MltrailError):
    """The resource is in a state that forbids the action (e.g. renaming a deleted experiment)."""

    error_code = "INVALID_STATE"
    status_code = 400


class RateLimitedError(MltrailError):
    """Too many requests; retry later."""

    error_code = "REQUEST_LIMIT_EXCEEDED"
    status_code = 429


class InternalError(MltrailError):
    """An unexpected failure inside mltrail."""

    error_code = "INTERNAL_ERROR"
    status_code = 500


class NotImplementedFeatureError(MltrailError):
    """The operation exists in the protocol but this deployment does not support it."""

    error_code = "NOT_IMPLEMENTED"
    status_code = 501


class BackendError(MltrailError):
    """A storage backend (database, object store) failed; usually transient."""

    error_code = "TEMPORARILY_UNAVAILABLE"
    status_code = 503


class MissingDependencyError(MltrailError, ImportError):
    """An optional dependency is missing; the message names the extra to install.

    Args:
        package: The import name that failed.
        extra: The mltrail extra that provides it.
    """

    error_code = "INTERNAL_ERROR"
    status_code = 500

    def __init__(self, package: str, extra: str) -> None:
        super().__init__(
            f"The optional dependency '{package}' is not installed. "
            f"Install it with: pip install 'mltrail[{extra}]'"
        )
        self.package = package
        self.extra = extra


# Wire codes that map onto one of our classes; several MLflow codes share a class.
_CODE_TO_CLASS: dict[str, type[MltrailError]] = {
    "INVALID_PARAMETER_VALUE": InvalidArgumentError,
    "BAD_REQUEST": BadRequestError,
    "RESOURCE_ALREADY_EXISTS": AlreadyExistsError,
    "ALREADY_EXISTS": AlreadyExistsError,
    "UNAUTHENTICATED": UnauthenticatedError,
    "CUSTOMER_UNAUTHORIZED": UnauthenticatedError,
    "PERMISSION_DENIED": PermissionDeniedError,
    "RESOURCE_DOES_NOT_EXIST": NotFoundError,
    "NOT_FOUND": NotFoundError,
    "ENDPOINT_NOT_FOUND": EndpointNotFoundError,
    "RESOURCE_CONFLICT": ConflictError,
    "ABORTED": ConflictError,
    "INVALID_STATE": InvalidStateError,
    "REQUEST_LIMIT_EXCEEDED": RateLimitedError,
    "RESOURCE_EXHAUSTED": RateLimitedError,
    "INTERNAL_ERROR": InternalError,
    "DATA_LOSS": InternalError,
    "NOT_IMPLEMENTED": NotImplementedFeatureError,
    "TEMPORARILY_UNAVAILABLE": BackendError,
}

# HTTP statuses of MLflow's wire protocol (spec REST-TRACKING §0.4), for codes we receive.
_CODE_TO_STATUS: dict[str, int] = {
    "INVALID_PARAMETER_VALUE": 400,
    "BAD_REQUEST": 400,
    "RESOURCE_ALREADY_EXISTS": 400,
    "CUSTOMER_UNAUTHORIZED": 401,
    "UNAUTHENTICATED": 401,
    "PERMISSION_DENIED": 403,
    "RESOURCE_DOES_NOT_EXIST": 404,
    "NOT_FOUND": 404,
    "ENDPOINT_NOT_FOUND": 404,
    "ABORTED": 409,
    "RESOURCE_CONFLICT": 409,
    "ALREADY_EXISTS": 409,
    "REQUEST_LIMIT_EXCEEDED": 429,
    "RESOURCE_EXHAUSTED": 429,
    "CANCELLED": 499,
    "NOT_IMPLEMENTED": 501,
    "TEMPORARILY_UNAVAILABLE": 503,
    "DEADLINE_EXCEEDED": 504,
}


def error_from_code(error_code: str, message: str, details: Mapping[str, Any] | None = None) -> MltrailError:
    """Build the mltrail error for a wire ``error_code`` (unknown codes become InternalError).

    Args:
        error_code: The ``error_code`` field of an error body.
        message: The ``message`` field.
        details: The optional ``details`` field.

    Returns:
        An instance of the matching class of the tree.
    """
    cls = _CODE_TO_CLASS.get(error_code, InternalError)
    if cls is MissingDependencyError:  # pragma: no cover - never mapped from the wire
        cls = InternalError
    return cls(message, details=details)


def status_for_code(error_code: str) -> int:
    """The HTTP status MLflow uses for a wire error code (500 for unknown codes)."""
    return _CODE_TO_STATUS.get(error_code, 500)
