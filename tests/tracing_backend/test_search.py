"""``search_traces``: each filter operator of spec TRACING §5, ordering and paging, on every backend."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from mltrail.errors import InvalidArgumentError
from mltrail.tracing.entities import Assessment, SpanEvent, TraceInfo, TraceState, mlflow_trace_id
from mltrail.tracing.search import parse_trace_filter, parse_trace_order_by
from tests.tracing_backend._spans import BASE_NS, new_span_id, new_trace_id, span
from tests.tracing_backend.conftest import BACKEND_PARAMS, Backend, open_backend

BASE_MS = BASE_NS // 1_000_000


def _add(
    backend: Backend,
    name: str,
    *,
    start_ms: int,
    duration: int,
    status: str = "OK",
    tags: dict[str, str] | None = None,
    child_type: str = "TOOL",
    child_attrs: dict[str, object] | None = None,
    child_status: str = "OK",
    child_events: tuple[SpanEvent, ...] = (),
    client_request_id: str | None = None,
) -> str:
    trace_id = new_trace_id()
    root_id = new_span_id()
    attrs: dict[str, object] = {f"mlflow.traceTag.{k}": v for k, v in (tags or {}).items()}
    attrs["mlflow.spanInputs"] = {"question": f"about {name}"}
    root = span(
        trace_id,
        name,
        span_id=root_id,
        start_ms=start_ms,
        end_ms=start_ms + duration,
        status=status,
        attributes=attrs,
    )
    child = span(
        trace_id,
        f"{name}-step",
        parent=root_id,
        start_ms=start_ms + 1,
        end_ms=start_ms + 2,
        status=child_status,
        attributes={"mlflow.spanType": child_type, **(child_attrs or {})},
        events=child_events,
    )
    backend.traces.log_spans(backend.experiment_id, [root, child])
    tid = mlflow_trace_id(trace_id)
    if client_request_id:
        info = backend.traces.get_trace_info(tid)
        backend.traces.start_trace(
            TraceInfo(
                tid,
                backend.experiment_id,
                info.request_time,
                info.execution_duration,
                info.state,
                client_request_id=client_request_id,
            )
        )
    return tid


@pytest.fixture(scope="module", params=BACKEND_PARAMS)
def shared(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Backend]:
    """One backend per kind for the whole module; tests only read it after the corpus is written."""
    with open_backend(request.param, tmp_path_factory.mktemp("search")) as b:
        yield b


@pytest.fixture(scope="module")
def shared_corpus(shared: Backend) -> dict[str, str]:
    """The corpus written once into the shared backend."""
    return _corpus(shared)


def _corpus(backend: Backend) -> dict[str, str]:
    """Four traces with distinct times, states, tags and spans."""
    return {
        "alpha": _add(
            backend,
            "alpha",
            start_ms=0,
            duration=100,
            tags={"env": "prod", "team": "Search"},
            child_type="LLM",
            child_attrs={"model": "gpt-4o", "temperature": 0.5, "n": 3},
            client_request_id="req-alpha",
        ),
        "beta": _add(
            backend,
            "beta",
            start_ms=1000,
            duration=300,
            status="ERROR",
            tags={"env": "dev"},
            child_status="ERROR",
            child_attrs={"model": "claude-3"},
        ),
        "gamma": _add(
            backend,
            "gamma",
            start_ms=2000,
            duration=50,
            tags={"env": "prod"},
            child_type="RETRIEVER",
            # The pair model=gpt-4o in an event is not an attribute of the span.
            child_events=(SpanEvent("retry", BASE_NS + 2_001_000_000, {"model": "gpt-4o"}),),
        ),
        "delta": _add(
            backend,
            "delta",
            start_ms=3000,
            duration=500,
            child_attrs={"flag": True, "max_tokens": 256, "stop": ["END"]},
        ),
    }


def _names(backend: Backend, corpus: dict[str, str], filter_string: str) -> set[str]:
    by_id = {v: k for k, v in corpus.items()}
    page = backend.traces.search_traces([backend.experiment_id], filter_string, max_results=100)
    return {by_id[i.trace_id] for i in page}


@pytest.mark.parametrize(
    ("filter_string", "expected"),
    [
        (f"timestamp_ms > {BASE_MS + 1000}", {"gamma", "delta"}),
        (f"timestamp_ms >= {BASE_MS + 1000}", {"beta", "gamma", "delta"}),
        (f"trace.timestamp < {BASE_MS + 1000}", {"alpha"}),
        (f"timestamp_ms <= {BASE_MS + 1000}", {"alpha", "beta"}),
        (f"timestamp_ms = {BASE_MS + 2000}", {"gamma"}),
        (f"timestamp_ms != {BASE_MS + 2000}", {"alpha", "beta", "delta"}),
        ("execution_time_ms > 100", {"beta", "delta"}),
        ("attributes.execution_time <= 100", {"alpha", "gamma"}),
        (f"end_time_ms > {BASE_MS + 2000}", {"delta", "gamma"}),
        ("status = 'ERROR'", {"beta"}),
        ("status != 'ERROR'", {"alpha", "gamma", "delta"}),
        ("trace.status IN ('ERROR', 'IN_PROGRESS')", {"beta"}),
        ("name = 'gamma'", {"gamma"}),
        ("name != 'gamma'", {"alpha", "beta", "delta"}),
        ("name LIKE 'a%'", {"alpha"}),
        ("name ILIKE 'ALP%'", {"alpha"}),
        ("name RLIKE '^(be|ga)'", {"beta", "gamma"}),
        ("name IN ('alpha', 'delta')", {"alpha", "delta"}),
        ("name NOT IN ('alpha', 'delta')", {"beta", "gamma"}),
        ("client_request_id = 'req-alpha'", {"alpha"}),
        ("tags.env = 'prod'", {"alpha", "gamma"}),
        ("tags.env != 'prod'", {"beta"}),
        ("tags.team LIKE 'Sea%'", {"alpha"}),
        ("tags.team LIKE 'sea%'", set()),
        ("tags.team ILIKE 'sea%'", {"alpha"}),
        ("tags.env RLIKE 'p.o'", {"alpha", "gamma"}),
        ("tags.team IS NULL", {"beta", "gamma", "delta"}),
        ("tags.team IS NOT NULL", {"alpha"}),
        ("tag.`mlflow.traceName` = 'delta'", {"delta"}),
        ("metadata.`mlflow.trace_schema.version` = '3'", {"alpha", "beta", "gamma", "delta"}),
        ("request_metadata.`mlflow.trace.user` IS NULL", {"alpha", "beta", "gamma", "delta"}),
        ("span.name = 'beta-step'", {"beta"}),
        ("span.name LIKE '%-step'", {"alpha", "beta", "gamma", "delta"}),
        ("span.type = 'RETRIEVER'", {"gamma"}),
        ("span.type IN ('LLM', 'RETRIEVER')", {"alpha", "gamma"}),
        ("span.status = 'ERROR'", {"beta"}),
        ("span.attributes.model = 'gpt-4o'", {"alpha"}),
        ("span.attributes.model != 'gpt-4o'", {"beta", "gamma", "delta"}),
        ("span.attributes.model LIKE '%claude%'", {"beta"}),
        ("span.attributes.n = 3", {"alpha"}),
        ("span.attributes.temperature = '0.5'", {"alpha"}),
        ("span.attributes.temperature = 0.5", {"alpha"}),
        ("span.attributes.model LIKE 'gpt%'", {"alpha"}),
        ("span.attributes.model ILIKE 'GPT-4_'", {"alpha"}),
        ("span.attributes.model RLIKE '^claude-[0-9]$'", {"beta"}),
        ("span.attributes.flag = 'true'", {"delta"}),
        ("span.attributes.max_tokens = 256", {"delta"}),
        ("span.attributes.max_tokens LIKE '25_'", {"delta"}),
        ("span.attributes.stop LIKE '%\"END\"%'", {"delta"}),
        ("span.content LIKE '%about gamma%'", {"gamma"}),
        ("span.content ILIKE '%ABOUT DELTA%'", {"delta"}),
        ("trace.text LIKE '%about beta%'", {"beta"}),
        ("text ILIKE '%ABOUT ALPHA%'", {"alpha"}),
        ("tags.env = 'prod' AND span.type = 'LLM' AND timestamp_ms < " + str(BASE_MS + 5000), {"alpha"}),
    ],
)
def test_filter_operators(
    shared: Backend, shared_corpus: dict[str, str], filter_string: str, expected: set[str]
) -> None:
    assert _names(shared, shared_corpus, filter_string) == expected


def test_request_id_and_run_id_filters(backend: Backend) -> None:
    corpus = _corpus(backend)
    alpha, beta = corpus["alpha"], corpus["beta"]
    assert _names(backend, corpus, f"request_id = '{alpha}'") == {"alpha"}
    assert _names(backend, corpus, f"request_id IN ('{alpha}', '{beta}')") == {"alpha", "beta"}
    assert _names(backend, corpus, f"request_id NOT IN ('{alpha}')") == {"beta", "gamma", "delta"}
    run_id = backend.tracking.create_run(backend.experiment_id).info.run_id
    backend.traces.link_traces_to_run([beta], run_id)
    assert _names(backend, corpus, f"run_id = '{run_id}'") == {"beta"}


def test_assessment_value_comparisons(backend: Backend) -> None:
    corpus = _corpus(backend)
    by_id = {v: k for k, v in corpus.items()}
    values: dict[str, object] = {"alpha": 4, "beta": 2.5, "gamma": "4", "delta": True}
    for name, value in values.items():
        backend.traces.create_assessment(
            Assessment("", corpus[name], "quality", "feedback", {"value": value})
        )
    backend.traces.create_assessment(Assessment("", corpus["alpha"], "score", "expectation", {"value": 0.75}))

    def names(filter_string: str) -> set[str]:
        page = backend.traces.search_traces([backend.experiment_id], filter_string, max_results=100)
        return {by_id[i.trace_id] for i in page}

    # Numeric operators compare numbers only: the string "4" and the boolean never match them.
    assert names("feedback.quality > 3") == {"alpha"}
    assert names("feedback.quality >= 2.5") == {"alpha", "beta"}
    assert names("feedback.quality < 4") == {"beta"}
    assert names("feedback.quality <= '4'") == {"alpha", "beta"}
    assert names("expectation.score > 0.5") == {"alpha"}
    assert names("expectation.score < 0.5") == set()
    assert names("feedback.score > 0.5") == set()  # an expectation is not a feedback
    # Equality compares the value's text, so the number 4 and the string "4" both match.
    assert names("feedback.quality = 4") == {"alpha", "gamma"}
    assert names("feedback.quality = 'true'") == {"delta"}


def test_issue_id_filter(backend: Backend) -> None:
    corpus = _corpus(backend)
    by_id = {v: k for k, v in corpus.items()}
    for name in ("alpha", "gamma"):
        backend.traces.create_assessment(Assessment("", corpus[name], "iss-7", "issue", {"issue": {}}))
    backend.traces.create_assessment(Assessment("", corpus["beta"], "iss-8", "issue", {"issue": {}}))
    backend.traces.create_assessment(Assessment("", corpus["delta"], "iss-7", "feedback", {"value": 1}))
    page = backend.traces.search_traces([backend.experiment_id], "issue.id = 'iss-7'")
    assert {by_id[i.trace_id] for i in page} == {"alpha", "gamma"}
    assert backend.traces.search_traces([backend.experiment_id], "issue.id = 'iss-9'").items == []


def test_ordering_and_paging(shared: Backend, shared_corpus: dict[str, str]) -> None:
    backend, corpus = shared, shared_corpus
    exp = [backend.experiment_id]
    default = [i.trace_id for i in backend.traces.search_traces(exp)]
    assert default == [corpus[n] for n in ("delta", "gamma", "beta", "alpha")]
    ascending = [i.trace_id for i in backend.traces.search_traces(exp, order_by=["timestamp_ms ASC"])]
    assert ascending == default[::-1]
    by_duration = backend.traces.search_traces(exp, order_by=["execution_time DESC"])
    assert [i.execution_duration for i in by_duration] == [500, 300, 100, 50]
    by_name = backend.traces.search_traces(exp, order_by=["name"])
    assert [i.tags["mlflow.traceName"] for i in by_name] == ["alpha", "beta", "delta", "gamma"]

    seen: list[str] = []
    token = None
    while True:
        page = backend.traces.search_traces(exp, max_results=3, page_token=token)
        seen.extend(i.trace_id for i in page)
        token = page.next_page_token
        if token is None:
            break
    assert seen == default


def test_state_of_returned_infos(shared: Backend, shared_corpus: dict[str, str]) -> None:
    page = shared.traces.search_traces([shared.experiment_id], "name = 'beta'")
    assert page.items[0].state is TraceState.ERROR
    assert page.items[0].tags["env"] == "dev"


@pytest.mark.parametrize(
    "bad",
    [
        "name = 'a' OR name = 'b'",
        "bogus = 'x'",
        "timestamp_ms LIKE '1%'",
        "tags.env IN ('a')",
        "span.bogus = 'x'",
        "name =",
        "feedback.quality > 'high'",
        "expectation.score <= 'nan'",
        "feedback.quality IN ('a')",
        "issue.name = 'x'",
        "issue.id != 'x'",
    ],
)
def test_bad_filters_are_invalid(shared: Backend, bad: str) -> None:
    with pytest.raises(InvalidArgumentError):
        shared.traces.search_traces([shared.experiment_id], bad)


def test_bad_order_and_page_size(shared: Backend) -> None:
    with pytest.raises(InvalidArgumentError):
        shared.traces.search_traces([shared.experiment_id], order_by=["bogus DESC"])
    with pytest.raises(InvalidArgumentError):
        shared.traces.search_traces([shared.experiment_id], max_results=50001)


def test_parser_messages() -> None:
    with pytest.raises(InvalidArgumentError, match="Invalid clause\\(s\\) in filter string: 'OR'"):
        parse_trace_filter("a = 'b' OR c = 'd'")
    with pytest.raises(InvalidArgumentError, match="Valid keys"):
        parse_trace_filter("nonsense = 1")
    assert parse_trace_order_by(["attributes.timestamp DESC", "name"])[0].key == "timestamp_ms"
