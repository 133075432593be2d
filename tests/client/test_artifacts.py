"""Artifacts through TrackingClient: files, trees, text, dicts, figures, images and tables."""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from PIL import Image

from mltrail.errors import InvalidArgumentError, NotFoundError
from mltrail.tracking.client import TrackingClient


@pytest.fixture
def run_id(client: TrackingClient) -> str:
    return client.create_run("0").info.run_id


def _read(client: TrackingClient, run_id: str, path: str) -> bytes:
    return b"".join(client._artifacts.repository(run_id).open_chunks(path))


def test_run_artifacts_live_under_the_run_artifact_uri(
    client: TrackingClient, run_id: str, artifact_root: Path, tmp_path: Path
) -> None:
    src = tmp_path / "model.txt"
    src.write_text("weights")
    client.log_artifact(run_id, str(src))
    client.log_artifact(run_id, str(src), "nested/dir")
    uri = client.get_run(run_id).info.artifact_uri
    assert uri.endswith(f"/{run_id}/artifacts")
    local_root = Path(uri.removeprefix("file://"))
    assert local_root.is_relative_to(artifact_root)
    assert (local_root / "model.txt").read_text() == "weights"
    assert (local_root / "nested" / "dir" / "model.txt").read_text() == "weights"


def test_log_artifacts_list_and_download(client: TrackingClient, run_id: str, tmp_path: Path) -> None:
    tree = tmp_path / "tree"
    (tree / "sub").mkdir(parents=True)
    (tree / "a.txt").write_text("A")
    (tree / "sub" / "b.bin").write_bytes(b"\x00\x01")
    client.log_artifacts(run_id, str(tree), "out")
    top = client.list_artifacts(run_id)
    assert [(f.path, f.is_dir) for f in top] == [("out", True)]
    listing = client.list_artifacts(run_id, "out")
    assert [(f.path, f.is_dir, f.file_size) for f in listing] == [
        ("out/a.txt", False, 1),
        ("out/sub", True, None),
    ]
    assert client.list_artifacts(run_id, "missing") == []

    dst = tmp_path / "dl"
    local = client.download_artifacts(run_id, "out", str(dst))
    assert Path(local) == dst / "out"
    assert (dst / "out" / "a.txt").read_text() == "A"
    assert (dst / "out" / "sub" / "b.bin").read_bytes() == b"\x00\x01"
    single = client.download_artifacts(run_id, "out/sub/b.bin", str(tmp_path / "one"))
    assert Path(single).read_bytes() == b"\x00\x01"
    everything = Path(client.download_artifacts(run_id))
    assert (everything / "out" / "a.txt").read_text() == "A"
    with pytest.raises(NotFoundError):
        client.download_artifacts(run_id, "nope", str(tmp_path / "x"))


@pytest.mark.parametrize("bad", ["../escape", "/abs", "a/../../b", "s3://x/y", "%2e%2e/x"])
def test_unsafe_artifact_paths_are_rejected(
    client: TrackingClient, run_id: str, tmp_path: Path, bad: str
) -> None:
    src = tmp_path / "f.txt"
    src.write_text("x")
    with pytest.raises(InvalidArgumentError):
        client.log_artifact(run_id, str(src), bad)
    with pytest.raises(InvalidArgumentError):
        client.log_text(run_id, "x", f"{bad}/f.txt")
    assert not (tmp_path / "escape").exists()


def test_log_text_and_dict(client: TrackingClient, run_id: str) -> None:
    client.log_text(run_id, "héllo\n", "notes/readme.txt")
    assert _read(client, run_id, "notes/readme.txt").decode("utf-8") == "héllo\n"
    data = {"b": [1, 2], "a": {"x": "y"}}
    client.log_dict(run_id, data, "cfg/params.json")
    client.log_dict(run_id, data, "cfg/params.yaml")
    client.log_dict(run_id, data, "cfg/params.yml")
    assert json.loads(_read(client, run_id, "cfg/params.json")) == data
    assert yaml.safe_load(_read(client, run_id, "cfg/params.yaml")) == data
    assert yaml.safe_load(_read(client, run_id, "cfg/params.yml")) == data
    with pytest.raises(ValueError):
        json.loads(_read(client, run_id, "cfg/params.yaml"))


def test_log_figure_uses_the_extension(client: TrackingClient, run_id: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots()
    ax.plot([1, 2, 3], [3, 1, 2])
    client.log_figure(run_id, fig, "plots/curve.png")
    client.log_figure(run_id, fig, "plots/curve.svg")
    client.log_figure(run_id, fig, "plots/curve.pdf")
    plt.close(fig)
    assert _read(client, run_id, "plots/curve.png").startswith(b"\x89PNG")
    assert b"<svg" in _read(client, run_id, "plots/curve.svg")
    assert _read(client, run_id, "plots/curve.pdf").startswith(b"%PDF")
    with pytest.raises(InvalidArgumentError, match="extension"):
        client.log_figure(run_id, fig, "plots/curve.txt")
    with pytest.raises(InvalidArgumentError, match="Figure"):
        client.log_figure(run_id, object(), "plots/x.png")


def _png(data: bytes) -> Image.Image:
    img = Image.open(io.BytesIO(data))
    assert img.format == "PNG"
    return img


def test_log_image_from_arrays_and_pil(client: TrackingClient, run_id: str) -> None:
    rgb = np.zeros((4, 5, 3), dtype=np.uint8)
    rgb[0, 0] = [255, 10, 20]
    client.log_image(run_id, rgb, "img/rgb.png")
    img = _png(_read(client, run_id, "img/rgb.png"))
    assert img.size == (5, 4) and img.mode == "RGB" and img.getpixel((0, 0)) == (255, 10, 20)

    gray = np.full((3, 3), 0.5, dtype=np.float32)
    client.log_image(run_id, gray, "img/gray.png")
    img = _png(_read(client, run_id, "img/gray.png"))
    assert img.mode == "L" and img.getpixel((1, 1)) == 128

    rgba = np.ones((2, 2, 4), dtype=np.float64)
    client.log_image(run_id, rgba, "img/rgba.png")
    assert _png(_read(client, run_id, "img/rgba.png")).mode == "RGBA"

    pil = Image.new("RGB", (7, 2), (1, 2, 3))
    client.log_image(run_id, pil, "img/pil.png")
    assert _png(_read(client, run_id, "img/pil.png")).getpixel((6, 1)) == (1, 2, 3)

    with pytest.raises(InvalidArgumentError, match=r"\[0, 1\]"):
        client.log_image(run_id, np.full((2, 2), 2.0), "img/bad.png")
    with pytest.raises(InvalidArgumentError, match="shape"):
        client.log_image(run_id, np.zeros((2, 2, 2), dtype=np.uint8), "img/bad.png")
    with pytest.raises(InvalidArgumentError, match="Unsupported image type"):
        client.log_image(run_id, [[1, 2]], "img/bad.png")


def test_log_image_by_key_and_step(client: TrackingClient, run_id: str) -> None:
    img = np.zeros((300, 400, 3), dtype=np.uint8)
    client.log_image(run_id, img, key="samples/val", step=3, timestamp=1234)
    client.log_image(run_id, img, key="samples/val", step=4)
    names = [f.path for f in client.list_artifacts(run_id, "images")]
    pngs = [n for n in names if n.endswith(".png")]
    previews = [n for n in names if n.endswith("+compressed.webp")]
    assert len(pngs) == 2 and len(previews) == 2
    assert any(n.startswith("images/samples~val+step+3+timestamp+1234+") for n in pngs)
    assert any(n.startswith("images/samples~val+step+4+timestamp+") for n in pngs)
    preview = Image.open(io.BytesIO(_read(client, run_id, previews[0])))
    assert max(preview.size) <= 256
    assert client.get_run(run_id).data.tags["mlflow.loggedImages"] == "True"
    with pytest.raises(InvalidArgumentError):
        client.log_image(run_id, img, "x.png", key="k")
    with pytest.raises(InvalidArgumentError):
        client.log_image(run_id, img)
    with pytest.raises(InvalidArgumentError, match="image key"):
        client.log_image(run_id, img, key="bad#key")


def test_log_table_writes_split_json_and_appends(client: TrackingClient, run_id: str) -> None:
    client.log_table(run_id, {"q": ["a", "b"], "score": [1, 2]}, "eval/table.json")
    assert json.loads(_read(client, run_id, "eval/table.json")) == {
        "columns": ["q", "score"],
        "data": [["a", 1], ["b", 2]],
    }
    df = pd.DataFrame({"q": ["c"], "score": [3.5], "extra": [None]})
    client.log_table(run_id, df, "eval/table.json")
    table = json.loads(_read(client, run_id, "eval/table.json"))
    assert table["columns"] == ["q", "score", "extra"]
    assert table["data"] == [["a", 1, None], ["b", 2, None], ["c", 3.5, None]]
    back = pd.read_json(io.BytesIO(_read(client, run_id, "eval/table.json")), orient="split")
    assert list(back["q"]) == ["a", "b", "c"]
    client.log_table(run_id, {"single": "row", "n": 1}, "one.json")
    assert json.loads(_read(client, run_id, "one.json")) == {"columns": ["single", "n"], "data": [["row", 1]]}
    tag = json.loads(client.get_run(run_id).data.tags["mlflow.loggedArtifacts"])
    assert tag == [{"path": "eval/table.json", "type": "table"}, {"path": "one.json", "type": "table"}]
    with pytest.raises(InvalidArgumentError, match=r"\.json"):
        client.log_table(run_id, {"a": [1]}, "t.csv")
    with pytest.raises(InvalidArgumentError, match="lengths"):
        client.log_table(run_id, {"a": [1], "b": [1, 2]}, "t.json")
    with pytest.raises(InvalidArgumentError, match="forbidden"):
        client.log_table(run_id, {"a": [1]}, "t:x.json")
    client.log_dict(run_id, [1, 2], "notatable.json")
    with pytest.raises(InvalidArgumentError, match="not a table"):
        client.log_table(run_id, {"a": [1]}, "notatable.json")
    with pytest.raises(InvalidArgumentError, match="Unsupported table"):
        client.log_table(run_id, [1, 2], "t.json")
