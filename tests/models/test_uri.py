"""Model URI resolution: local paths and file: URIs built in, other schemes through resolvers."""

from __future__ import annotations

from importlib.metadata import EntryPoint
from pathlib import Path

import pytest

import mltrail.models.uri as uri_module
from mltrail.errors import InvalidArgumentError
from mltrail.models.uri import resolve_model_uri

RESOLVED: dict[str, str] = {}


def fake_resolver(uri: str) -> str:
    """Resolve ``fake:/name`` to the directory registered for it."""
    return RESOLVED[uri.split(":/", 1)[1]]


def test_local_paths_and_file_uris(tmp_path: Path) -> None:
    assert resolve_model_uri(tmp_path) == tmp_path
    assert resolve_model_uri(str(tmp_path)) == tmp_path
    assert resolve_model_uri("relative/model") == Path("relative/model")
    spaced = tmp_path / "with space"
    assert resolve_model_uri(spaced.as_uri()) == spaced


def test_unknown_scheme_is_a_clear_error() -> None:
    with pytest.raises(InvalidArgumentError, match=r"'ftp://host/model'.*scheme 'ftp' is not supported"):
        resolve_model_uri("ftp://host/model")


def test_builtin_table_and_entry_points(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    RESOLVED["m"] = str(tmp_path)
    monkeypatch.setitem(uri_module.MODEL_URI_RESOLVERS, "fake", f"{__name__}:fake_resolver")
    assert resolve_model_uri("fake:/m") == tmp_path
    monkeypatch.delitem(uri_module.MODEL_URI_RESOLVERS, "fake")
    plugin = EntryPoint("plug", f"{__name__}:fake_resolver", uri_module.MODEL_URI_RESOLVER_GROUP)
    monkeypatch.setattr(uri_module, "entry_points", lambda group: [plugin] if group == plugin.group else [])
    assert resolve_model_uri("plug:/m") == tmp_path
