"""Keeping autologging from ever breaking user code.

A failure inside an integration becomes an :class:`AutologgingWarning` and the user's training
goes on; an exception raised by the user's own code (``fit``, ``train``) propagates unchanged.
Patches of third-party classes are recorded so that ``disable=True`` restores the originals.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, TypeVar

__all__ = ["AutologgingWarning", "PatchSet", "exception_safe", "safe_call", "warn_failure"]

_logger = logging.getLogger(__name__)

T = TypeVar("T")


class AutologgingWarning(UserWarning):
    """An autologging integration failed; the user's code was not affected."""


def warn_failure(integration: str, exc: BaseException) -> None:
    """Report a failure inside an integration as a warning (with the traceback at DEBUG level)."""
    _logger.debug("mltrail autologging (%s) failed", integration, exc_info=exc)
    warnings.warn(
        f"mltrail autologging ({integration}) failed and was skipped: {type(exc).__name__}: {exc}",
        AutologgingWarning,
        stacklevel=3,
    )


@contextlib.contextmanager
def exception_safe(integration: str) -> Iterator[None]:
    """Run a block of integration code, turning any ``Exception`` into a warning."""
    try:
        yield
    except Exception as exc:
        warn_failure(integration, exc)


def safe_call(integration: str, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T | None:
    """Call ``fn``; on an ``Exception`` warn and return None."""
    try:
        return fn(*args, **kwargs)
    except Exception as exc:
        warn_failure(integration, exc)
        return None


@dataclass
class PatchSet:
    """The attributes an integration replaced on third-party classes, restorable in one call."""

    _originals: dict[tuple[int, str], tuple[Any, str, Any]] = field(default_factory=dict)

    def patch(self, owner: Any, name: str, make: Callable[[Callable[..., Any]], Callable[..., Any]]) -> bool:
        """Replace ``owner.name`` (a function, or a descriptor with a ``fn``) by ``make(original)``.

        Only attributes defined in ``owner.__dict__`` are patched, each at most once.

        Returns:
            True if a patch was applied.
        """
        key = (id(owner), name)
        raw = owner.__dict__.get(name)
        if raw is None or key in self._originals:
            return False
        if isinstance(raw, (staticmethod, classmethod)):
            return False
        if callable(raw) and hasattr(raw, "__code__"):
            replacement: Any = functools.wraps(raw)(make(raw))
        elif callable(getattr(raw, "fn", None)):
            # sklearn's ``available_if`` descriptors keep the method in ``fn``.
            replacement = _copy_descriptor(raw)
            replacement.fn = functools.wraps(raw.fn)(make(raw.fn))
        else:
            return False
        self._originals[key] = (owner, name, raw)
        setattr(owner, name, replacement)
        return True

    def is_patched(self, owner: Any, name: str) -> bool:
        """Whether ``owner.name`` is currently replaced by this set."""
        return (id(owner), name) in self._originals

    def restore(self) -> None:
        """Put every original back."""
        for owner, name, raw in self._originals.values():
            setattr(owner, name, raw)
        self._originals.clear()


def _copy_descriptor(raw: Any) -> Any:
    clone = object.__new__(type(raw))
    clone.__dict__.update(raw.__dict__)
    return clone
