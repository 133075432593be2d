"""Validation rules of tracking inputs (spec REST-TRACKING §0.7)."""

from __future__ import annotations

import math

import pytest

from mltrail.errors import InvalidArgumentError
from mltrail.tracking import validation as v
from mltrail.tracking.entities import Dataset, DatasetInput, InputTag, Metric, Param, RunTag


@pytest.mark.parametrize("key", ["a", "a" * 250, "x/y", "a.b-c_d", "with space", "c:d", "ünicode", "a/b/c"])
def test_valid_keys(key: str) -> None:
    assert v.validate_key(key, "key") == key


@pytest.mark.parametrize(
    ("key", "message"),
    [
        ("a" * 251, "exceeds the maximum length of 250"),
        ("bad!", "Names may only contain"),
        ("tab\t", "Names may only contain"),
        ("", "must not resolve to other names"),
        ("/abs", "would resolve to '/abs'"),
        ("a//b", "would resolve to 'a/b'"),
        ("a/./b", "would resolve"),
        ("./a", "would resolve"),
        (".", "would resolve"),
        ("..", "would resolve"),
        ("../a", "would resolve"),
        ("a/", "would resolve"),
        (3, "must be a string"),
    ],
)
def test_invalid_keys(key: object, message: str) -> None:
    with pytest.raises(InvalidArgumentError, match=message):
        v.validate_key(key, "params[0].key")


def test_key_message_names_the_path() -> None:
    with pytest.raises(InvalidArgumentError, match=r"parameter 'tags\[3\]\.key'"):
        v.validate_key("bad!", "tags[3].key")


def test_metric_clamps_infinity_and_converts_ints() -> None:
    assert v.validate_metric(Metric("m", math.inf, 1)).value == 1.7976931348623157e308
    assert v.validate_metric(Metric("m", -math.inf, 1)).value == -1.7976931348623157e308
    converted = v.validate_metric(Metric("m", 3, 1))
    assert converted.value == 3.0 and isinstance(converted.value, float)
    assert math.isnan(v.validate_metric(Metric("m", math.nan, 1)).value)


@pytest.mark.parametrize(
    ("metric", "path"),
    [
        (Metric("m", True, 1), "metrics[0].value"),
        (Metric("m", "1", 1), "metrics[0].value"),  # type: ignore[arg-type]
        (Metric("m", None, 1), "metrics[0].value"),  # type: ignore[arg-type]
        (Metric("m", 1.0, -1), "metrics[0].timestamp"),
        (Metric("m", 1.0, 1.5), "metrics[0].timestamp"),  # type: ignore[arg-type]
        (Metric("m", 1.0, 2**63), "metrics[0].timestamp"),
        (Metric("m", 1.0, 1, 2**63), "metrics[0].step"),
        (Metric("m", 1.0, 1, "1"), "metrics[0].step"),  # type: ignore[arg-type]
        (Metric("bad!", 1.0, 1), "metrics[0].key"),
    ],
)
def test_invalid_metrics(metric: Metric, path: str) -> None:
    with pytest.raises(InvalidArgumentError, match=path.replace("[", r"\[").replace("]", r"\]")):
        v.validate_batch([metric], [], [])


def test_batch_fast_path_matches_full_check() -> None:
    good = [Metric(f"k{i % 7}", float(i), i, i) for i in range(50)]
    metrics, params, tags = v.validate_batch(good, [], [])
    assert metrics == good and params == [] and tags == []
    clamped, _, _ = v.validate_batch([Metric("m", math.inf, 1)], [], [])
    assert clamped[0].value == 1.7976931348623157e308


@pytest.mark.parametrize(
    ("n_metrics", "n_params", "n_tags", "what"),
    [(1001, 0, 0, "metrics"), (0, 101, 0, "params"), (0, 0, 101, "tags"), (901, 100, 0, "entities")],
)
def test_batch_limits(n_metrics: int, n_params: int, n_tags: int, what: str) -> None:
    with pytest.raises(InvalidArgumentError, match=f"at most .* {what}"):
        v.validate_batch(
            [Metric("m", 1.0, i) for i in range(n_metrics)],
            [Param(f"p{i}", "v") for i in range(n_params)],
            [RunTag(f"t{i}", "v") for i in range(n_tags)],
        )


def test_batch_at_limits_passes() -> None:
    metrics, params, tags = v.validate_batch(
        [Metric("m", 1.0, i) for i in range(800)],
        [Param(f"p{i}", "v") for i in range(100)],
        [RunTag(f"t{i}", "v") for i in range(100)],
    )
    assert (len(metrics), len(params), len(tags)) == (800, 100, 100)


def test_duplicate_params() -> None:
    with pytest.raises(InvalidArgumentError, match=r"Duplicate parameter keys have been submitted: \['a'\]"):
        v.validate_batch([], [Param("a", "1"), Param("b", "1"), Param("a", "1")], [])


def test_truncation() -> None:
    _, params, tags = v.validate_batch([], [Param("p", "x" * 6001)], [RunTag("t", "y" * 8001)])
    assert params == [Param("p", "x" * 6000)] and tags == [RunTag("t", "y" * 8000)]
    with pytest.raises(
        InvalidArgumentError, match=r"'params\[0\]\.value' exceeds the maximum length of 6000"
    ):
        v.validate_batch([], [Param("p", "x" * 6001)], [], truncate=False)
    with pytest.raises(InvalidArgumentError, match=r"'tags\[0\]\.value' exceeds the maximum length of 8000"):
        v.validate_batch([], [], [RunTag("t", "y" * 8001)], truncate=False)
    with pytest.raises(InvalidArgumentError, match="must be a string"):
        v.validate_batch([], [Param("p", 1)], [])  # type: ignore[arg-type]


def test_experiment_rules() -> None:
    assert v.validate_experiment_name("x" * 500) == "x" * 500
    for bad in ("", "x" * 501, None, 5):
        with pytest.raises(InvalidArgumentError):
            v.validate_experiment_name(bad)
    assert v.validate_experiment_tag("k", "v" * 20000) == ("k", "v" * 20000)
    with pytest.raises(InvalidArgumentError):
        v.validate_experiment_tag("k", "v" * 20001)
    with pytest.raises(InvalidArgumentError):
        v.validate_experiment_tag("k" * 251, "v")
    assert v.validate_experiment_id("12") == 12
    assert v.validate_experiment_id(" 0 ") == 0
    for bad_id in ("abc", "", "1.5", True):
        with pytest.raises(InvalidArgumentError, match="must be a valid integer"):
            v.validate_experiment_id(bad_id)


@pytest.mark.parametrize("location", ["runs:/x/artifacts", "s3://b/p#frag", "s3://b/p;params", "a" * 2049])
def test_bad_artifact_locations(location: str) -> None:
    with pytest.raises(InvalidArgumentError):
        v.validate_artifact_location(location)


def test_good_artifact_location() -> None:
    assert v.validate_artifact_location("s3://bucket/a;b/c") == "s3://bucket/a;b/c"
    assert v.validate_artifact_location("a" * 2048) == "a" * 2048


def test_run_id_and_max_results() -> None:
    assert v.validate_run_id("a" * 32) == "a" * 32
    for bad in ("", "-abc", "a" * 257, "a b", None):
        with pytest.raises(InvalidArgumentError):
            v.validate_run_id(bad)
    assert v.validate_max_results(50000, 50000) == 50000
    for bad_n in (0, -1, 50001, True, 1.5):
        with pytest.raises(InvalidArgumentError):
            v.validate_max_results(bad_n, 50000)


def _ds(**kw: str) -> DatasetInput:
    fields = {"name": "n", "digest": "d", "source_type": "local", "source": "s"}
    fields.update(kw)
    return DatasetInput(Dataset(**fields))


def test_dataset_rules() -> None:
    v.validate_dataset_inputs([_ds(name="n" * 500, digest="d" * 36, source="s" * 65535)])
    v.validate_dataset_inputs([DatasetInput(Dataset("n", "d", "t", "s"), (InputTag("k" * 255, "v" * 500),))])
    bad = [
        _ds(name="n" * 501),
        _ds(digest="d" * 37),
        _ds(source_type="t" * 37),
        _ds(source=""),
        DatasetInput(Dataset("n", "d", "t", "s", schema="x" * 1048576)),
        DatasetInput(Dataset("n", "d", "t", "s"), (InputTag("", "v"),)),
        DatasetInput(Dataset("n", "d", "t", "s"), (InputTag("k", "v" * 501),)),
    ]
    for item in bad:
        with pytest.raises(InvalidArgumentError, match=r"datasets\[0\]"):
            v.validate_dataset_inputs([item])
