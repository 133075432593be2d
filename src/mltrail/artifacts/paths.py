"""Artifact path canonicalisation and artifact URI helpers.

:func:`canonical_relpath` is the one gate every artifact path passes before any repository
touches storage: it returns a clean ``a/b/c`` form or raises ``InvalidArgumentError``. The
other helpers join a root URI with such a path and map ``file:`` URIs and plain paths to local
filesystem paths.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from urllib.parse import unquote, urlsplit
from urllib.request import url2pathname

from mltrail.errors import InvalidArgumentError

__all__ = [
    "canonical_file_relpath",
    "canonical_relpath",
    "is_local_uri",
    "join_uri",
    "local_path_from_uri",
    "local_path_to_uri",
    "uri_scheme",
]

# A URI scheme or a Windows drive letter at the start of a path ("s3:", "C:").
_SCHEME_RE = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*:")
# Characters that never belong in a relative artifact path: controls, backslash, query, fragment.
_FORBIDDEN_RE = re.compile(r"[\x00-\x1f\x7f\\#?]")
_MAX_DECODE_ROUNDS = 4


def _invalid(path: str, reason: str) -> InvalidArgumentError:
    return InvalidArgumentError(f"Invalid path {path!r}: {reason}")


def _check_segments(original: str, candidate: str) -> list[str]:
    """Validate one (possibly decoded) form of a path and return its meaningful segments."""
    if _FORBIDDEN_RE.search(candidate):
        raise _invalid(original, "control characters, '\\', '#' and '?' are not allowed")
    if candidate.startswith("/"):
        raise _invalid(original, "absolute paths are not allowed")
    if _SCHEME_RE.match(candidate):
        raise _invalid(original, "URI schemes and drive letters are not allowed")
    segments = [seg for seg in candidate.split("/") if seg not in ("", ".")]
    if ".." in segments:
        raise _invalid(original, "'..' segments are not allowed")
    return segments


def canonical_relpath(path: str | None) -> str:
    """Canonicalise a relative artifact path or reject it.

    ``./`` segments and duplicate or trailing slashes are dropped. Rejected: ``..`` segments,
    absolute paths, drive letters, URI schemes, backslashes, NUL and other control characters,
    ``#``, ``?``, and any of those hidden behind percent-encoding (``%2e%2e``, ``%2f``).

    Args:
        path: A path relative to an artifact root; None or ``""`` means the root itself.

    Returns:
        The canonical form, ``""`` for the root.

    Raises:
        InvalidArgumentError: the path could name something outside the root.
    """
    if path is None or path == "":
        return ""
    if not isinstance(path, str):
        raise InvalidArgumentError(f"Invalid path {path!r}: expected a string")
    segments = _check_segments(path, path)
    decoded = path
    rounds = 0
    while "%" in decoded and (next_form := unquote(decoded)) != decoded:
        rounds += 1
        if rounds > _MAX_DECODE_ROUNDS:
            raise _invalid(path, "too many layers of percent-encoding")
        decoded = next_form
        _check_segments(path, decoded)
    return "/".join(segments)


def canonical_file_relpath(path: str | None) -> str:
    """Canonicalise the relative path of a file, which cannot be the root.

    Args:
        path: A path relative to an artifact root.

    Returns:
        The canonical form (see :func:`canonical_relpath`), never ``""``.

    Raises:
        InvalidArgumentError: the path is unsafe or names the root.
    """
    rel = canonical_relpath(path)
    if not rel:
        raise InvalidArgumentError("A file path is required, not the artifact root")
    return rel


def uri_scheme(uri: str) -> str:
    """The lower-cased scheme of a URI; ``""`` for plain paths (and Windows drive letters)."""
    match = _SCHEME_RE.match(uri)
    if match is None:
        return ""
    scheme = match.group(0)[:-1].lower()
    return "" if len(scheme) == 1 else scheme


def is_local_uri(uri: str) -> bool:
    """True for ``file:`` URIs and plain filesystem paths."""
    return uri_scheme(uri) in ("", "file")


def join_uri(root: str, relpath: str | None) -> str:
    """Join an artifact root URI (or local path) with a relative path.

    Args:
        root: A root URI such as ``s3://bucket/prefix`` or ``/abs/dir``.
        relpath: A relative path; it is canonicalised first.

    Returns:
        ``root`` when ``relpath`` is empty, else ``root/relpath`` with exactly one slash between.

    Raises:
        InvalidArgumentError: ``relpath`` is not a safe relative path.
    """
    rel = canonical_relpath(relpath)
    if not rel:
        return root
    if root.endswith("/"):
        return root + rel
    return f"{root}/{rel}"


def local_path_from_uri(uri: str) -> str:
    """The absolute local path of a ``file:`` URI or a plain path.

    Args:
        uri: ``file:///abs/dir``, ``file://localhost/abs/dir``, ``file:rel/dir`` or a plain path.

    Returns:
        An absolute path (not resolved through symlinks).

    Raises:
        InvalidArgumentError: the URI has another scheme or names a remote host.
    """
    scheme = uri_scheme(uri)
    if scheme == "":
        return os.path.abspath(uri)
    if scheme != "file":
        raise InvalidArgumentError(f"Not a local URI: {uri!r}")
    parts = urlsplit(uri)
    if parts.netloc not in ("", "localhost"):
        raise InvalidArgumentError(f"file: URIs must not name a remote host: {uri!r}")
    if parts.query or parts.fragment:
        raise InvalidArgumentError(f"file: URIs must not carry a query or fragment: {uri!r}")
    return os.path.abspath(url2pathname(parts.path))


def local_path_to_uri(path: str) -> str:
    """The ``file://`` URI of a local path (made absolute)."""
    return Path(os.path.abspath(path)).as_uri()
