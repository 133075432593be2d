"""search_traces (DataFrame and list) and the ``mltrail traces`` CLI over a SQLite store."""

from __future__ import annotations

import json
import time

import pandas as pd
from click.testing import CliRunner

import mltrail
from mltrail.cli.main import main
from mltrail.tracing.entities import Trace


def _make_traces() -> str:
    experiment = mltrail.set_experiment("search-me")

    @mltrail.trace(span_type="CHAIN")
    def ask(question: str) -> str:
        mltrail.update_current_trace(tags={"topic": question.split()[0]})
        with mltrail.start_span("lookup", span_type="RETRIEVER"):
            pass
        return question.upper()

    # Traces started in the same millisecond tie on request time; keep their order unambiguous.
    ask("cats are great")
    time.sleep(0.01)
    ask("dogs are loyal")
    time.sleep(0.01)
    ask("cats again")
    assert mltrail.flush_traces(30)
    return experiment.experiment_id


def test_search_traces_as_dataframe_and_list(sqlite_uri: str) -> None:
    experiment_id = _make_traces()
    frame = mltrail.search_traces()
    assert isinstance(frame, pd.DataFrame)
    assert len(frame) == 3
    assert {"trace_id", "trace", "state", "request", "response", "tags", "spans"} <= set(frame.columns)
    assert set(frame["state"]) == {"OK"}
    assert all(len(spans) == 2 for spans in frame["spans"])

    cats = mltrail.search_traces(
        experiment_ids=[experiment_id], filter_string="tags.topic = 'cats'", return_type="list"
    )
    assert isinstance(cats, list) and len(cats) == 2
    assert all(isinstance(t, Trace) and len(t.spans) == 2 for t in cats)
    assert {t.info.response_preview for t in cats} == {"CATS ARE GREAT", "CATS AGAIN"}

    first = mltrail.search_traces(max_results=1, order_by=["timestamp_ms ASC"], return_type="list")
    assert len(first) == 1 and "cats are great" in (first[0].info.request_preview or "")


def test_traces_cli_list_get_delete(sqlite_uri: str) -> None:
    experiment_id = _make_traces()
    runner = CliRunner()
    base = ["--tracking-uri", sqlite_uri, "traces"]

    listed = runner.invoke(main, [*base, "list", "-e", experiment_id])
    assert listed.exit_code == 0, listed.output
    assert listed.output.count("ask") == 3 and "TRACE ID" in listed.output

    as_json = runner.invoke(
        main, [*base, "list", "-e", experiment_id, "--json", "--filter", "tags.topic = 'dogs'"]
    )
    assert as_json.exit_code == 0, as_json.output
    (info,) = json.loads(as_json.output)
    trace_id = info["trace_id"]

    got = runner.invoke(main, [*base, "get", trace_id])
    assert got.exit_code == 0, got.output
    trace = json.loads(got.output)
    assert trace["info"]["tags"]["topic"] == "dogs"
    assert sorted(s["name"] for s in trace["spans"]) == ["ask", "lookup"]

    missing = runner.invoke(main, [*base, "get", "tr-" + "0" * 32])
    assert missing.exit_code == 1 and "mltrail traces list" in missing.output

    deleted = runner.invoke(main, [*base, "delete", "-e", experiment_id, "--trace-id", trace_id])
    assert deleted.exit_code == 0 and "Deleted 1 trace." in deleted.output
    bad = runner.invoke(main, [*base, "delete", "-e", experiment_id])
    assert bad.exit_code == 2

    by_age = runner.invoke(main, [*base, "delete", "-e", experiment_id, "--max-timestamp-millis", str(2**62)])
    assert by_age.exit_code == 0 and "Deleted 2 traces." in by_age.output
    empty = runner.invoke(main, [*base, "list", "-e", experiment_id])
    assert "No traces found." in empty.output
