"""Container and Kubernetes recipes: each generated Dockerfile passes hadolint without a finding,
each manifest set passes ``kubernetes-validate --strict``, and the CLI commands write them."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from mltrail.cli.main import main
from mltrail.deploy.dockerfile import DockerRecipe, model_python_version, write_build_context
from mltrail.deploy.k8s import K8sOptions, render_manifests, resource_name
from mltrail.errors import InvalidArgumentError, NotFoundError
from mltrail.models.model import Model

_BIN = Path(sys.executable).parent


def _hadolint(dockerfile: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(_BIN / "hadolint"), str(dockerfile)], capture_output=True, text=True, check=False
    )


def _validate(*files: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(_BIN / "kubernetes-validate"), "--strict", *map(str, files)],
        capture_output=True,
        text=True,
        check=False,
    )


# -- Dockerfile ---------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["sklearn", "scaler"])
def test_generated_dockerfile_passes_hadolint(model_dirs: dict[str, Path], tmp_path: Path, kind: str) -> None:
    dockerfile = write_build_context(model_dirs[kind], tmp_path / "ctx")
    result = _hadolint(dockerfile)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout == "" and result.stderr == ""


def test_dockerfile_with_pickle_and_custom_requirement_passes_hadolint(
    model_dirs: dict[str, Path], tmp_path: Path
) -> None:
    dockerfile = write_build_context(
        model_dirs["sklearn"],
        tmp_path / "ctx",
        mltrail_requirement="mltrail[serving]>=0.1,<1",
        serve_args=["--allow-pickle"],
    )
    text = dockerfile.read_text()
    assert '"mltrail[serving]>=0.1,<1"' in text
    assert '"--allow-pickle"]' in text
    result = _hadolint(dockerfile)
    assert result.returncode == 0 and result.stdout == "", result.stdout


def test_dockerfile_contents(model_dirs: dict[str, Path], tmp_path: Path) -> None:
    dockerfile = write_build_context(model_dirs["sklearn"], tmp_path / "ctx")
    text = dockerfile.read_text()
    python = Model.load(model_dirs["sklearn"]).flavors["python_function"]["python_version"]
    lines = text.splitlines()
    assert lines[0] == f"FROM python:{python}-slim"
    assert "USER 10001:10001" in lines
    assert "EXPOSE 8080" in lines
    assert "HEALTHCHECK" in text and "http://127.0.0.1:8080/ping" in text
    assert (
        'RUN pip install --no-cache-dir -r /opt/ml/model/requirements.txt "mltrail[serving]==0.1.0"' in lines
    )
    entrypoint = json.loads(
        next(line for line in lines if line.startswith("ENTRYPOINT"))[len("ENTRYPOINT ") :]
    )
    assert entrypoint == [
        "mltrail", "models", "serve", "-m", "/opt/ml/model", "--host", "0.0.0.0", "--port", "8080"
    ]  # fmt: skip
    # The USER line comes after every RUN: nothing runs as root at serving time.
    assert lines.index("USER 10001:10001") > max(i for i, line in enumerate(lines) if line.startswith("RUN"))
    copied = tmp_path / "ctx" / "model"
    assert sorted(p.name for p in copied.iterdir()) == sorted(p.name for p in model_dirs["sklearn"].iterdir())


def test_python_version_falls_back_to_the_running_one(model_dirs: dict[str, Path], tmp_path: Path) -> None:
    copy = tmp_path / "model"
    shutil.copytree(model_dirs["sklearn"], copy)
    meta = yaml.safe_load((copy / "MLmodel").read_text())
    del meta["flavors"]["python_function"]["python_version"]
    (copy / "MLmodel").write_text(yaml.safe_dump(meta))
    import platform

    assert model_python_version(copy) == platform.python_version()


def test_recipe_without_requirements(tmp_path: Path) -> None:
    recipe = DockerRecipe(python_version="3.12.4", has_requirements=False)
    text = recipe.render()
    assert "requirements.txt" not in text
    (tmp_path / "Dockerfile").write_text(text)
    assert _hadolint(tmp_path / "Dockerfile").stdout == ""


def test_build_context_refuses_a_non_model_and_an_existing_copy(
    model_dirs: dict[str, Path], tmp_path: Path
) -> None:
    with pytest.raises(NotFoundError):
        write_build_context(tmp_path, tmp_path / "ctx")
    write_build_context(model_dirs["sklearn"], tmp_path / "ctx")
    with pytest.raises(InvalidArgumentError, match="already exists"):
        write_build_context(model_dirs["sklearn"], tmp_path / "ctx")


def test_cli_generate_dockerfile(model_dirs: dict[str, Path], tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = CliRunner().invoke(
        main, ["models", "generate-dockerfile", "-m", str(model_dirs["scaler"]), "-d", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert (out / "Dockerfile").is_file() and (out / "model" / "MLmodel").is_file()
    assert _hadolint(out / "Dockerfile").stdout == ""


def test_cli_build_docker_without_an_engine_says_so(
    model_dirs: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    empty = tmp_path / "bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    result = CliRunner().invoke(
        main, ["models", "build-docker", "-m", str(model_dirs["sklearn"]), "-n", "iris"]
    )
    assert result.exit_code == 1
    assert "No container engine was found" in result.output
    assert "docker build -t iris" in result.output


def test_cli_build_docker_with_a_client_but_no_running_engine(
    model_dirs: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    fake = bin_dir / "docker"
    fake.write_text(
        "#!/bin/sh\necho 'Cannot connect to the Docker daemon. Is the docker daemon running?' >&2\nexit 1\n"
    )
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", str(bin_dir))
    result = CliRunner().invoke(
        main, ["models", "build-docker", "-m", str(model_dirs["sklearn"]), "-n", "iris"]
    )
    assert result.exit_code == 1
    assert "'docker' is installed but its engine does not answer" in result.output
    assert "Is the docker daemon running?" in result.output


def test_cli_build_docker_runs_the_engine_on_the_context(
    model_dirs: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    record = tmp_path / "calls.txt"
    # A stand-in engine: answers `info`, and for `build` records its arguments and the Dockerfile.
    fake = bin_dir / "docker"
    fake.write_text(
        "#!/bin/sh\n"
        f'echo "$@" >> {record}\n'
        'if [ "$1" = build ]; then cat "$4/Dockerfile" >> ' + str(record) + "; fi\n"
    )
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}/usr/bin{os.pathsep}/bin")
    result = CliRunner().invoke(
        main, ["models", "build-docker", "-m", str(model_dirs["sklearn"]), "-n", "iris:2"]
    )
    assert result.exit_code == 0, result.output
    calls = record.read_text().splitlines()
    assert calls[0] == "info"
    assert calls[1].startswith("build -t iris:2 ")
    assert "ENTRYPOINT" in record.read_text()
    assert "Built image iris:2" in result.output


# -- Kubernetes ---------------------------------------------------------------------------------


def _write(manifests: dict[str, str], directory: Path) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, text in manifests.items():
        (directory / name).write_text(text)
        paths.append(directory / name)
    return paths


@pytest.mark.parametrize(
    "options",
    [
        K8sOptions(name="iris", image="registry.example/iris:1"),
        K8sOptions(
            name="churn-model",
            image="registry.example/churn@sha256:" + "a" * 64,
            model_uri="models:/churn@prod",
            namespace="ml",
            replicas=3,
            cpu_request="250m",
            memory_request="256Mi",
            cpu_limit="2",
            memory_limit="2Gi",
            service_type="LoadBalancer",
            autoscale=True,
            min_replicas=3,
            max_replicas=20,
            target_cpu=60,
            env=(("MLTRAIL_SCORING_WORKERS", "2"),),
        ),
    ],
)
def test_manifests_pass_strict_validation(options: K8sOptions, tmp_path: Path) -> None:
    files = _write(render_manifests(options), tmp_path)
    assert len(files) == (3 if options.autoscale else 2)
    result = _validate(*files)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "passed" in result.stdout + result.stderr


def test_manifest_contents() -> None:
    docs = {
        name: yaml.safe_load(text)
        for name, text in render_manifests(K8sOptions(name="iris", image="img:1", autoscale=True)).items()
    }
    deployment, service, hpa = docs["deployment.yaml"], docs["service.yaml"], docs["hpa.yaml"]
    container = deployment["spec"]["template"]["spec"]["containers"][0]
    assert container["image"] == "img:1"
    assert container["ports"] == [{"name": "http", "containerPort": 8080, "protocol": "TCP"}]
    for probe in ("readinessProbe", "livenessProbe"):
        assert container[probe]["httpGet"] == {"path": "/ping", "port": "http"}
    assert container["resources"]["requests"] == {"cpu": "500m", "memory": "512Mi"}
    assert container["resources"]["limits"] == {"cpu": "1", "memory": "1Gi"}
    assert container["securityContext"]["runAsNonRoot"] is True
    assert deployment["spec"]["replicas"] == 2
    selector = deployment["spec"]["selector"]["matchLabels"]
    assert service["spec"]["selector"] == selector
    assert selector.items() <= deployment["spec"]["template"]["metadata"]["labels"].items()
    assert service["spec"]["ports"][0]["targetPort"] == "http"
    assert hpa["spec"]["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment", "name": "iris"}


def test_invalid_options_are_rejected() -> None:
    with pytest.raises(InvalidArgumentError, match="DNS-1123"):
        K8sOptions(name="Not_Valid", image="img")
    with pytest.raises(InvalidArgumentError, match="Replica"):
        K8sOptions(name="ok", image="img", min_replicas=5, max_replicas=2)
    assert resource_name("Churn_Model v2") == "churn-model-v2"


def test_cli_generate_k8s(tmp_path: Path) -> None:
    out = tmp_path / "k8s"
    result = CliRunner().invoke(
        main,
        ["models", "generate-k8s", "-m", "models:/Churn_Model@champion", "--image", "img:2",
         "-d", str(out), "--autoscale", "--replicas", "4", "--env", "MLTRAIL_SCORING_BATCHING=on"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    files = sorted(out.iterdir())
    assert [f.name for f in files] == ["deployment.yaml", "hpa.yaml", "service.yaml"]
    deployment = yaml.safe_load((out / "deployment.yaml").read_text())
    assert deployment["metadata"]["name"] == "churn-model"
    assert deployment["metadata"]["annotations"]["mltrail.org/model-uri"] == "models:/Churn_Model@champion"
    assert deployment["spec"]["template"]["spec"]["containers"][0]["env"] == [
        {"name": "MLTRAIL_SCORING_BATCHING", "value": "on"}
    ]
    result_validate = _validate(*files)
    assert result_validate.returncode == 0, result_validate.stdout + result_validate.stderr


def test_cli_generate_k8s_rejects_a_bad_env_pair(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        main, ["models", "generate-k8s", "-m", "m", "--image", "i", "-d", str(tmp_path), "--env", "NOEQUALS"]
    )
    assert result.exit_code == 2
    assert "NAME=VALUE" in result.output


def test_hadolint_is_the_real_linter(tmp_path: Path) -> None:
    # Guards the tests above: a Dockerfile with known problems must produce findings.
    bad = tmp_path / "Dockerfile"
    bad.write_text("FROM python\nRUN pip install flask\nRUN cd /tmp\n")
    result = _hadolint(bad)
    assert result.returncode != 0
    assert "DL3006" in result.stdout  # untagged image
    assert os.path.basename(str(bad)) in result.stdout
