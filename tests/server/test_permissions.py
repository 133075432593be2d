"""Every route of the server declares the permission it needs (deny by default otherwise)."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute

from mltrail.server.app import create_app
from mltrail.server.permissions import (
    PERMISSION_KEY,
    Access,
    PermissionDeclaration,
    ResourceKind,
    collect_permissions,
    declaration_of,
)
from mltrail.server.settings import ServerSettings


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> FastAPI:
    workdir = tmp_path_factory.mktemp("perm")
    return create_app(
        ServerSettings(
            backend_store_uri=f"sqlite:///{workdir / 'db.sqlite'}", artifacts_destination=str(workdir)
        )
    )


def test_every_route_declares_a_permission(app: FastAPI) -> None:
    undeclared = [
        f"{sorted(getattr(route, 'methods', None) or [])} {getattr(route, 'path', route)}"
        for route in app.routes
        if declaration_of(route) is None
    ]
    assert undeclared == []
    assert all(isinstance(route, APIRoute) for route in app.routes)


def test_registry_covers_every_method_of_every_route(app: FastAPI) -> None:
    registry = app.state.context.permissions
    expected = {
        (method, route.path)
        for route in app.routes
        if isinstance(route, APIRoute)
        for method in route.methods or ()
    }
    assert {key for key, _ in registry} == expected
    assert len(registry) > 60


@pytest.mark.parametrize(
    ("method", "path", "resource", "access", "field"),
    [
        ("GET", "/health", ResourceKind.SERVER, Access.NONE, None),
        ("POST", "/api/2.0/mlflow/experiments/create", ResourceKind.EXPERIMENT, Access.EDIT, None),
        ("GET", "/api/2.0/mlflow/experiments/get", ResourceKind.EXPERIMENT, Access.READ, "experiment_id"),
        (
            "POST",
            "/api/2.0/mlflow/experiments/delete",
            ResourceKind.EXPERIMENT,
            Access.MANAGE,
            "experiment_id",
        ),
        ("POST", "/ajax-api/2.0/mlflow/runs/log-batch", ResourceKind.RUN, Access.EDIT, "run_id"),
        ("GET", "/api/2.0/mlflow/runs/get", ResourceKind.RUN, Access.READ, "run_id"),
        ("POST", "/api/2.0/mlflow/runs/search", ResourceKind.EXPERIMENT, Access.READ, "experiment_ids"),
        (
            "PUT",
            "/api/2.0/mlflow-artifacts/artifacts/{path:path}",
            ResourceKind.ARTIFACT,
            Access.EDIT,
            "path",
        ),
        (
            "DELETE",
            "/api/2.0/mlflow-artifacts/artifacts/{path:path}",
            ResourceKind.ARTIFACT,
            Access.MANAGE,
            "path",
        ),
    ],
)
def test_declarations_are_meaningful(
    app: FastAPI, method: str, path: str, resource: ResourceKind, access: Access, field: str | None
) -> None:
    declaration = app.state.context.permissions.lookup(method, path)
    assert declaration == PermissionDeclaration(resource, access, field)


def test_collect_skips_and_reports_undeclared_routes(tmp_path: Path) -> None:
    bare = FastAPI()

    @bare.get("/undeclared")
    def undeclared() -> dict[str, str]:
        return {}

    assert len(collect_permissions(bare.routes)) == 0
    declared = FastAPI()
    declaration = PermissionDeclaration(ResourceKind.TRACE, Access.READ, "trace_id")
    declared.add_api_route("/t", undeclared, methods=["GET"], openapi_extra=declaration.to_openapi())
    registry = collect_permissions(declared.routes)
    assert registry.lookup("get", "/t") == declaration
    assert PermissionDeclaration.from_openapi({PERMISSION_KEY: None}) is None
