"""Kubernetes manifests for a scoring-server image: a Deployment, a Service and optionally a
HorizontalPodAutoscaler, ready for ``kubectl apply -f``.

Pods run the image's entry point as a non-root user, answer on port 8080, and are probed on
``/ping`` for readiness and liveness.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from mltrail.deploy.dockerfile import SERVING_PORT
from mltrail.errors import InvalidArgumentError

__all__ = ["K8sOptions", "render_manifests", "resource_name", "write_manifests"]

_DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")
_UID = 10001


def resource_name(text: str) -> str:
    """A valid Kubernetes resource name (DNS-1123 label) derived from ``text``.

    Raises:
        InvalidArgumentError: nothing usable is left of ``text``.
    """
    name = re.sub(r"[^a-z0-9-]+", "-", text.lower()).strip("-")[:63].strip("-")
    if not name:
        raise InvalidArgumentError(f"Cannot derive a Kubernetes name from {text!r}; pass --name")
    return name


@dataclass(frozen=True)
class K8sOptions:
    """What the manifests describe.

    Attributes:
        name: Name of every resource (a DNS-1123 label).
        image: The scoring-server image.
        model_uri: Recorded as an annotation.
        namespace: Namespace of the resources (``None``: the one ``kubectl`` uses).
        replicas: Pods of the Deployment.
        cpu_request / memory_request / cpu_limit / memory_limit: Container resources.
        service_type: ``ClusterIP``, ``NodePort`` or ``LoadBalancer``.
        service_port: Port the Service exposes (forwarded to the pods' 8080).
        autoscale: Also write a HorizontalPodAutoscaler.
        min_replicas / max_replicas / target_cpu: Autoscaler bounds and CPU target (percent).
        env: Environment variables of the container.
    """

    name: str
    image: str
    model_uri: str | None = None
    namespace: str | None = None
    replicas: int = 2
    cpu_request: str = "500m"
    memory_request: str = "512Mi"
    cpu_limit: str = "1"
    memory_limit: str = "1Gi"
    service_type: str = "ClusterIP"
    service_port: int = 80
    autoscale: bool = False
    min_replicas: int = 2
    max_replicas: int = 10
    target_cpu: int = 70
    env: tuple[tuple[str, str], ...] = ()

    def __post_init__(self) -> None:
        if not _DNS_LABEL.match(self.name):
            raise InvalidArgumentError(f"{self.name!r} is not a valid Kubernetes name (DNS-1123 label)")
        if not self.image.strip():
            raise InvalidArgumentError("An image is required")
        if self.replicas < 0 or self.min_replicas < 1 or self.max_replicas < self.min_replicas:
            raise InvalidArgumentError("Replica counts must satisfy 0 <= replicas and 1 <= min <= max")
        if not 1 <= self.target_cpu <= 100:
            raise InvalidArgumentError("The autoscaler's CPU target is a percentage between 1 and 100")
        if self.service_type not in ("ClusterIP", "NodePort", "LoadBalancer"):
            raise InvalidArgumentError("The service type must be ClusterIP, NodePort or LoadBalancer")


def _metadata(options: K8sOptions, labels: dict[str, str]) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": options.name, "labels": dict(labels)}
    if options.namespace:
        meta["namespace"] = options.namespace
    if options.model_uri:
        meta["annotations"] = {"mltrail.org/model-uri": options.model_uri}
    return meta


def _probe(initial_delay: int, period: int, failures: int) -> dict[str, Any]:
    return {
        "httpGet": {"path": "/ping", "port": "http"},
        "initialDelaySeconds": initial_delay,
        "periodSeconds": period,
        "timeoutSeconds": 5,
        "failureThreshold": failures,
    }


def _deployment(options: K8sOptions, labels: dict[str, str], selector: dict[str, str]) -> dict[str, Any]:
    container: dict[str, Any] = {
        "name": "scoring-server",
        "image": options.image,
        "imagePullPolicy": "IfNotPresent",
        "ports": [{"name": "http", "containerPort": SERVING_PORT, "protocol": "TCP"}],
        "resources": {
            "requests": {"cpu": options.cpu_request, "memory": options.memory_request},
            "limits": {"cpu": options.cpu_limit, "memory": options.memory_limit},
        },
        "readinessProbe": _probe(5, 10, 3),
        "livenessProbe": _probe(30, 20, 3),
        "securityContext": {
            "allowPrivilegeEscalation": False,
            "runAsNonRoot": True,
            "runAsUser": _UID,
            "runAsGroup": _UID,
            "capabilities": {"drop": ["ALL"]},
        },
    }
    if options.env:
        container["env"] = [{"name": k, "value": v} for k, v in options.env]
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": _metadata(options, labels),
        "spec": {
            "replicas": options.replicas,
            "selector": {"matchLabels": dict(selector)},
            "template": {
                "metadata": {"labels": dict(labels)},
                "spec": {
                    "securityContext": {"runAsNonRoot": True, "runAsUser": _UID, "fsGroup": _UID},
                    "containers": [container],
                },
            },
        },
    }


def _service(options: K8sOptions, labels: dict[str, str], selector: dict[str, str]) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": _metadata(options, labels),
        "spec": {
            "type": options.service_type,
            "selector": dict(selector),
            "ports": [
                {"name": "http", "port": options.service_port, "targetPort": "http", "protocol": "TCP"}
            ],
        },
    }


def _autoscaler(options: K8sOptions, labels: dict[str, str]) -> dict[str, Any]:
    return {
        "apiVersion": "autoscaling/v2",
        "kind": "HorizontalPodAutoscaler",
        "metadata": _metadata(options, labels),
        "spec": {
            "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": options.name},
            "minReplicas": options.min_replicas,
            "maxReplicas": options.max_replicas,
            "metrics": [
                {
                    "type": "Resource",
                    "resource": {
                        "name": "cpu",
                        "target": {"type": "Utilization", "averageUtilization": options.target_cpu},
                    },
                }
            ],
        },
    }


def render_manifests(options: K8sOptions) -> dict[str, str]:
    """The manifests as YAML text, by file name.

    Returns:
        ``deployment.yaml``, ``service.yaml`` and, with ``autoscale``, ``hpa.yaml``.
    """
    selector = {"app.kubernetes.io/name": options.name, "app.kubernetes.io/component": "scoring-server"}
    labels = {**selector, "app.kubernetes.io/managed-by": "mltrail"}
    documents = {
        "deployment.yaml": _deployment(options, labels, selector),
        "service.yaml": _service(options, labels, selector),
    }
    if options.autoscale:
        documents["hpa.yaml"] = _autoscaler(options, labels)
    return {name: yaml.safe_dump(doc, sort_keys=False) for name, doc in documents.items()}


def write_manifests(options: K8sOptions, output_dir: str | os.PathLike[str]) -> list[Path]:
    """Write the manifests of :func:`render_manifests` into ``output_dir`` (created if needed).

    Returns:
        The files written.
    """
    target = Path(output_dir)
    target.mkdir(parents=True, exist_ok=True)
    written = []
    for name, text in render_manifests(options).items():
        path = target / name
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written
