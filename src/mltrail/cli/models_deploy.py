"""``mltrail models serve | generate-dockerfile | build-docker | generate-k8s``: serve and deploy.

A model URI (a local directory, ``runs:/``, ``models:/name@alias`` ...) becomes a REST endpoint,
a container build context, or Kubernetes manifests. ``models:/`` and ``runs:/`` URIs are
resolved against the store named by ``--tracking-uri``.
"""

from __future__ import annotations

import logging
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import click
import orjson

from mltrail.cli._context import CliState
from mltrail.deploy.dockerfile import SERVING_PORT, write_build_context
from mltrail.deploy.k8s import K8sOptions, resource_name, write_manifests
from mltrail.models.uri import resolve_model_uri
from mltrail.tracking.fluent import set_tracking_uri

__all__ = ["DEPLOY_COMMANDS", "build_docker", "generate_dockerfile", "generate_k8s", "serve"]

_MODEL_URI = click.option(
    "-m",
    "--model-uri",
    required=True,
    metavar="URI",
    help="The model: a directory, runs:/<run>/<name>, models:/<name>@<alias>, models:/<name>/<version>...",
)
_ALLOW_PICKLE = click.option(
    "--allow-pickle",
    is_flag=True,
    help="Allow loading models whose files are unpickled (this runs code stored in the model).",
)


def _use_tracking_uri(ctx: click.Context, model_uri: str) -> None:
    """Point the model URI resolvers at the CLI's store when the URI needs one."""
    state = ctx.find_object(CliState)
    if state is not None and urlparse(model_uri).scheme in ("runs", "models"):
        set_tracking_uri(state.tracking_uri)


@click.command("serve")
@_MODEL_URI
@click.option("-h", "--host", default="127.0.0.1", show_default=True, help="Interface to listen on.")
@click.option("-p", "--port", default=5000, show_default=True, type=int, help="Port to listen on.")
@click.option(
    "-w",
    "--workers",
    default=1,
    show_default=True,
    type=click.IntRange(min=1),
    envvar="MLTRAIL_SCORING_WORKERS",
    help="Server processes (env MLTRAIL_SCORING_WORKERS).",
)
@click.option(
    "-t",
    "--timeout",
    default=60.0,
    show_default=True,
    type=click.FloatRange(min=0, min_open=True),
    envvar="MLTRAIL_SCORING_TIMEOUT",
    help="Seconds before a request is answered 504 (env MLTRAIL_SCORING_TIMEOUT).",
)
@click.option(
    "--batching",
    type=click.Choice(["auto", "on", "off"]),
    default="auto",
    show_default=True,
    envvar="MLTRAIL_SCORING_BATCHING",
    help="Group concurrent requests into one predict call: auto = only if the model declares "
    "batchable (env MLTRAIL_SCORING_BATCHING).",
)
@click.option(
    "--max-batch-size",
    default=64,
    show_default=True,
    type=click.IntRange(min=1),
    envvar="MLTRAIL_SCORING_MAX_BATCH_SIZE",
    help="Most requests grouped into one predict call.",
)
@click.option(
    "--max-batch-delay-ms",
    default=5.0,
    show_default=True,
    type=click.FloatRange(min=0),
    envvar="MLTRAIL_SCORING_MAX_BATCH_DELAY_MS",
    help="Longest a request waits for others to join its group (milliseconds).",
)
@click.option(
    "--threads", default=4, show_default=True, type=click.IntRange(min=1), help="Prediction threads."
)
@click.option("--model-config", default=None, metavar="JSON", help="Overrides of the model's configuration.")
@_ALLOW_PICKLE
@click.pass_context
def serve(
    ctx: click.Context,
    model_uri: str,
    host: str,
    port: int,
    workers: int,
    timeout: float,
    batching: str,
    max_batch_size: int,
    max_batch_delay_ms: float,
    threads: int,
    model_config: str | None,
    allow_pickle: bool,
) -> None:
    """Serve a model over HTTP: POST /invocations, GET /ping, /health and /version."""
    # The serving extra (uvicorn, pandas) is imported only by this command, so that every other
    # command of the CLI starts without it.
    from mltrail.scoring.server import load_served_model
    from mltrail.scoring.server import serve as run_server
    from mltrail.scoring.settings import ScoringSettings

    config: dict[str, Any] | None = None
    if model_config:
        try:
            config = orjson.loads(model_config)
        except orjson.JSONDecodeError as exc:
            raise click.BadParameter(f"not valid JSON: {exc}", param_hint="--model-config") from None
        if not isinstance(config, dict):
            raise click.BadParameter("must be a JSON object", param_hint="--model-config")
    settings = ScoringSettings(
        host=host,
        port=port,
        workers=workers,
        timeout=timeout,
        batching=batching,  # type: ignore[arg-type]
        max_batch_size=max_batch_size,
        max_batch_delay_ms=max_batch_delay_ms,
        threads=threads,
    )
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    _use_tracking_uri(ctx, model_uri)
    model = load_served_model(model_uri, allow_pickle=allow_pickle, model_config=config)
    click.echo(f"Serving {model.path} on http://{host}:{port} with {workers} worker(s)", err=True)
    run_server(model, settings, allow_pickle=allow_pickle, model_config=config)


def _serve_args(allow_pickle: bool) -> list[str]:
    return ["--allow-pickle"] if allow_pickle else []


@click.command("generate-dockerfile")
@_MODEL_URI
@click.option(
    "-d",
    "--output-directory",
    default="mltrail-dockerfile",
    show_default=True,
    type=click.Path(file_okay=False),
    help="Where the Dockerfile and a copy of the model are written.",
)
@click.option(
    "--mltrail-requirement",
    default=None,
    metavar="SPEC",
    help="pip requirement that installs mltrail in the image (default: this version, serving extra).",
)
@_ALLOW_PICKLE
@click.pass_context
def generate_dockerfile(
    ctx: click.Context,
    model_uri: str,
    output_directory: str,
    mltrail_requirement: str | None,
    allow_pickle: bool,
) -> None:
    """Write a slim Dockerfile (and the model beside it) that serves the model on port 8080."""
    _use_tracking_uri(ctx, model_uri)
    dockerfile = write_build_context(
        resolve_model_uri(model_uri),
        output_directory,
        mltrail_requirement=mltrail_requirement,
        serve_args=_serve_args(allow_pickle),
    )
    click.echo(f"Wrote {dockerfile} (build it with: docker build -t <image> {dockerfile.parent})")


def _container_engine() -> tuple[str | None, str]:
    """The first container engine whose daemon answers, else ``None`` and why none does."""
    problems = []
    for engine in ("docker", "podman"):
        path = shutil.which(engine)
        if path is None:
            continue
        try:
            probe = subprocess.run([path, "info"], capture_output=True, text=True, timeout=30, check=False)
        except (OSError, subprocess.TimeoutExpired) as exc:
            problems.append(f"'{engine} info' failed: {exc}")
            continue
        if probe.returncode == 0:
            return path, ""
        detail = (probe.stderr or probe.stdout).strip().splitlines()
        problems.append(
            f"'{engine}' is installed but its engine does not answer ({detail[-1] if detail else ''})"
        )
    if not problems:
        return None, "No container engine was found: neither 'docker' nor 'podman' is on PATH"
    return None, "No container engine is running: " + "; ".join(problems)


@click.command("build-docker")
@_MODEL_URI
@click.option("-n", "--name", default="mltrail-pyfunc-servable", show_default=True, help="Image name (tag).")
@click.option("--mltrail-requirement", default=None, metavar="SPEC", help="As for generate-dockerfile.")
@_ALLOW_PICKLE
@click.pass_context
def build_docker(
    ctx: click.Context, model_uri: str, name: str, mltrail_requirement: str | None, allow_pickle: bool
) -> None:
    """Build an image that serves the model on port 8080 (needs docker or podman)."""
    _use_tracking_uri(ctx, model_uri)
    context = Path(tempfile.mkdtemp(prefix="mltrail-docker-"))
    write_build_context(
        resolve_model_uri(model_uri),
        context,
        mltrail_requirement=mltrail_requirement,
        serve_args=_serve_args(allow_pickle),
    )
    engine, problem = _container_engine()
    if engine is None:
        raise click.ClickException(
            f"{problem}, so the image was not built. The build context is ready in {context}; "
            f"build it where an engine runs with: docker build -t {name} {context}"
        )
    click.echo(f"Building {name} with {engine} from {context} ...")
    result = subprocess.run([engine, "build", "-t", name, str(context)], check=False)
    if result.returncode != 0:
        raise click.ClickException(f"{Path(engine).name} build failed (exit code {result.returncode})")
    shutil.rmtree(context, ignore_errors=True)
    click.echo(f"Built image {name}. Run it with: docker run -p {SERVING_PORT}:{SERVING_PORT} {name}")


def _default_name(model_uri: str) -> str:
    parsed = urlparse(model_uri)
    if parsed.scheme == "models":
        tail = (parsed.netloc + parsed.path).strip("/")
        return tail.split("@")[0].split("/")[0] or "model"
    return Path(parsed.path or model_uri).name or "model"


@click.command("generate-k8s")
@_MODEL_URI
@click.option("--image", required=True, help="The image that serves the model (see build-docker).")
@click.option("--name", default=None, help="Name of the resources (default: from the model URI).")
@click.option("--namespace", default=None, help="Namespace of the resources.")
@click.option("-d", "--output-directory", default="k8s", show_default=True, type=click.Path(file_okay=False))
@click.option("--replicas", default=2, show_default=True, type=click.IntRange(min=0))
@click.option("--cpu-request", default="500m", show_default=True)
@click.option("--memory-request", default="512Mi", show_default=True)
@click.option("--cpu-limit", default="1", show_default=True)
@click.option("--memory-limit", default="1Gi", show_default=True)
@click.option(
    "--service-type",
    type=click.Choice(["ClusterIP", "NodePort", "LoadBalancer"]),
    default="ClusterIP",
    show_default=True,
)
@click.option("--service-port", default=80, show_default=True, type=click.IntRange(1, 65535))
@click.option("--autoscale", is_flag=True, help="Also write a HorizontalPodAutoscaler (CPU-based).")
@click.option("--min-replicas", default=2, show_default=True, type=click.IntRange(min=1))
@click.option("--max-replicas", default=10, show_default=True, type=click.IntRange(min=1))
@click.option("--target-cpu", default=70, show_default=True, type=click.IntRange(1, 100), help="Percent.")
@click.option("--env", "env", multiple=True, metavar="NAME=VALUE", help="Container environment (repeatable).")
def generate_k8s(
    model_uri: str,
    image: str,
    name: str | None,
    namespace: str | None,
    output_directory: str,
    replicas: int,
    cpu_request: str,
    memory_request: str,
    cpu_limit: str,
    memory_limit: str,
    service_type: str,
    service_port: int,
    autoscale: bool,
    min_replicas: int,
    max_replicas: int,
    target_cpu: int,
    env: tuple[str, ...],
) -> None:
    """Write a Deployment and a Service (and optionally an autoscaler) for an image of the model."""
    pairs = []
    for item in env:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise click.BadParameter(f"expected NAME=VALUE, got {item!r}", param_hint="--env")
        pairs.append((key, value))
    options = K8sOptions(
        name=name or resource_name(_default_name(model_uri)),
        image=image,
        model_uri=model_uri,
        namespace=namespace,
        replicas=replicas,
        cpu_request=cpu_request,
        memory_request=memory_request,
        cpu_limit=cpu_limit,
        memory_limit=memory_limit,
        service_type=service_type,
        service_port=service_port,
        autoscale=autoscale,
        min_replicas=min_replicas,
        max_replicas=max_replicas,
        target_cpu=target_cpu,
        env=tuple(pairs),
    )
    for path in write_manifests(options, output_directory):
        click.echo(f"Wrote {path}")
    click.echo(f"Apply them with: kubectl apply -f {output_directory}")


DEPLOY_COMMANDS = (serve, generate_dockerfile, build_docker, generate_k8s)
"""The commands this module adds to ``mltrail models``."""
