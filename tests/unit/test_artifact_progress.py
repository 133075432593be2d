"""Progress bars of artifact transfers: when they show, and what they count."""

from __future__ import annotations

import io
import threading

import pytest

from mltrail.artifacts._progress import should_show_progress, transfer_progress


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize(
    ("total", "enabled", "stream", "shown"),
    [
        (2000, None, _Terminal(), True),
        (2000, None, io.StringIO(), False),
        (2000, True, io.StringIO(), True),
        (2000, False, _Terminal(), False),
        (1000, True, _Terminal(), False),  # not above the threshold
        (None, True, _Terminal(), False),  # unknown size
    ],
)
def test_should_show_progress(
    total: int | None, enabled: bool | None, stream: io.StringIO, shown: bool
) -> None:
    assert should_show_progress(total, enabled=enabled, threshold=1000, stream=stream) is shown


def test_bar_counts_bytes_from_many_threads() -> None:
    out = _Terminal()
    with transfer_progress(8 * 4096, "model.bin", threshold=10, stream=out) as advance:
        threads = [threading.Thread(target=lambda: [advance(512) for _ in range(8)]) for _ in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    text = out.getvalue()
    assert "model.bin" in text
    assert "32.0k/32.0k" in text


def test_small_transfer_writes_nothing() -> None:
    out = _Terminal()
    with transfer_progress(100, "tiny.txt", threshold=1000, stream=out) as advance:
        advance(100)
    assert out.getvalue() == ""
