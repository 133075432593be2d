"""Permission declarations of the server's routes.

Every route states what it touches (a resource kind), which request field names that resource,
and the access it needs. The declaration is data attached to the route (``openapi_extra`` under
:data:`PERMISSION_KEY`) and collected by :func:`collect_permissions` into a
:class:`PermissionRegistry`, which an access-control layer enforces. A route without a
declaration is denied by that layer; ``tests/server/test_permissions.py`` fails on any.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from starlette.routing import BaseRoute

__all__ = [
    "PERMISSION_KEY",
    "Access",
    "PermissionDeclaration",
    "PermissionRegistry",
    "ResourceKind",
    "collect_permissions",
    "declaration_of",
]

PERMISSION_KEY = "x-mltrail-permission"


class ResourceKind(enum.StrEnum):
    """The kinds of resources a route can act on."""

    EXPERIMENT = "experiment"
    RUN = "run"
    REGISTERED_MODEL = "registered_model"
    LOGGED_MODEL = "logged_model"
    TRACE = "trace"
    ARTIFACT = "artifact"
    SERVER = "server"


class Access(enum.StrEnum):
    """The access level a route needs on its resource (``none``: open to everyone)."""

    NONE = "none"
    READ = "read"
    EDIT = "edit"
    MANAGE = "manage"


@dataclass(frozen=True, slots=True)
class PermissionDeclaration:
    """What a route needs: ``access`` on the ``resource`` named by request field ``field``.

    Args:
        resource: The resource kind.
        access: The access level needed.
        field: The request field (or path parameter) that names the resource; None when the
            route acts on the kind as a whole (creation, search, server endpoints).
    """

    resource: ResourceKind
    access: Access
    field: str | None = None

    def to_openapi(self) -> dict[str, Any]:
        """The route's ``openapi_extra`` entry carrying this declaration."""
        return {
            PERMISSION_KEY: {
                "resource": str(self.resource),
                "access": str(self.access),
                "field": self.field,
            }
        }

    @classmethod
    def from_openapi(cls, extra: Mapping[str, Any] | None) -> PermissionDeclaration | None:
        """Read a declaration back from a route's ``openapi_extra`` (None if absent)."""
        data = (extra or {}).get(PERMISSION_KEY)
        if not data:
            return None
        return cls(ResourceKind(data["resource"]), Access(data["access"]), data.get("field"))


def declaration_of(route: BaseRoute) -> PermissionDeclaration | None:
    """The declaration attached to a route, or None."""
    return PermissionDeclaration.from_openapi(getattr(route, "openapi_extra", None))


@dataclass(frozen=True)
class PermissionRegistry:
    """Declarations by ``(method, path template)``."""

    entries: Mapping[tuple[str, str], PermissionDeclaration]

    def lookup(self, method: str, path: str) -> PermissionDeclaration | None:
        """The declaration of the route at ``path`` (its template) for ``method``."""
        return self.entries.get((method.upper(), path))

    def __iter__(self) -> Iterator[tuple[tuple[str, str], PermissionDeclaration]]:
        return iter(self.entries.items())

    def __len__(self) -> int:
        return len(self.entries)


def collect_permissions(routes: Iterable[BaseRoute]) -> PermissionRegistry:
    """Gather the declarations of every route that has one."""
    entries: dict[tuple[str, str], PermissionDeclaration] = {}
    for route in routes:
        declaration = declaration_of(route)
        if declaration is None:
            continue
        path = getattr(route, "path", "")
        for method in getattr(route, "methods", None) or ():
            entries[(method, path)] = declaration
    return PermissionRegistry(entries)
