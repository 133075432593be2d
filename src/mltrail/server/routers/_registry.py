"""Pieces shared by the registry routers: the registry store dependency, who acts, permissions."""

from __future__ import annotations

import base64
import binascii
from typing import Annotated, Any

from fastapi import Depends
from starlette.requests import Request

from mltrail.registry.store.base import RegistryStore
from mltrail.server.deps import get_context
from mltrail.server.permissions import Access, PermissionDeclaration, ResourceKind

__all__ = ["CREATE", "SEARCH", "RegistryDep", "edit", "get_registry", "manage", "read", "who"]


async def get_registry(request: Request) -> RegistryStore:
    """The app's registry store."""
    return (await get_context(request)).registry


RegistryDep = Annotated[RegistryStore, Depends(get_registry)]

CREATE = PermissionDeclaration(ResourceKind.REGISTERED_MODEL, Access.EDIT)
SEARCH = PermissionDeclaration(ResourceKind.REGISTERED_MODEL, Access.READ)


def read() -> PermissionDeclaration:
    """Read access to the registered model named by ``name``."""
    return PermissionDeclaration(ResourceKind.REGISTERED_MODEL, Access.READ, "name")


def edit() -> PermissionDeclaration:
    """Edit access to the registered model named by ``name``."""
    return PermissionDeclaration(ResourceKind.REGISTERED_MODEL, Access.EDIT, "name")


def manage() -> PermissionDeclaration:
    """Manage access to the registered model named by ``name``."""
    return PermissionDeclaration(ResourceKind.REGISTERED_MODEL, Access.MANAGE, "name")


def _basic_user(request: Request) -> str | None:
    scheme, _, credentials = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "basic" or not credentials:
        return None
    try:
        user, _, _ = base64.b64decode(credentials, validate=True).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return None
    return user or None


def who(request: Request, req: dict[str, Any]) -> str | None:
    """Who makes a registry change: an authenticated principal if an auth layer set one, else the
    basic-auth user name, else the request's ``user_id`` field (as MLflow's CreateRun trusts it)."""
    principal = getattr(request.state, "user", None)
    if isinstance(principal, str) and principal:
        return principal
    return _basic_user(request) or req.get("user_id") or None
