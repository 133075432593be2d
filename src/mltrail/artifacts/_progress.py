"""Progress bars for large artifact transfers.

A bar appears only for a file bigger than a threshold, and only when stderr is a terminal
(or the caller forces it), so logs of batch jobs and test output stay clean. Small transfers get
a no-op callback, which costs nothing.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import IO

from tqdm import tqdm

__all__ = ["DEFAULT_PROGRESS_THRESHOLD", "ProgressCallback", "should_show_progress", "transfer_progress"]

DEFAULT_PROGRESS_THRESHOLD = 100 * 1024 * 1024

ProgressCallback = Callable[[int], None]


def _noop(_nbytes: int) -> None:
    return None


def should_show_progress(
    total: int | None,
    *,
    enabled: bool | None = None,
    threshold: int = DEFAULT_PROGRESS_THRESHOLD,
    stream: IO[str] | None = None,
) -> bool:
    """Decide whether a transfer of ``total`` bytes gets a progress bar.

    Args:
        total: Size of the transfer in bytes (None when unknown: never shown).
        enabled: True forces a bar (above the threshold), False disables it, None shows it when
            ``stream`` is a terminal.
        threshold: Transfers of at most this many bytes never show a bar.
        stream: Where the bar would be written (default ``sys.stderr``).

    Returns:
        True when a bar should be drawn.
    """
    if enabled is False or total is None or total <= threshold:
        return False
    if enabled:
        return True
    out = stream if stream is not None else sys.stderr
    isatty = getattr(out, "isatty", None)
    return bool(isatty is not None and isatty())


@contextmanager
def transfer_progress(
    total: int | None,
    description: str,
    *,
    enabled: bool | None = None,
    threshold: int = DEFAULT_PROGRESS_THRESHOLD,
    stream: IO[str] | None = None,
) -> Iterator[ProgressCallback]:
    """Yield a callback that advances a byte-count bar; thread-safe, as transfers may be parallel.

    Args:
        total: Size of the transfer in bytes.
        description: Short label, usually the file name.
        enabled: See :func:`should_show_progress`.
        threshold: See :func:`should_show_progress`.
        stream: Where to draw the bar (default ``sys.stderr``).

    Yields:
        A function to call with the number of bytes moved since its previous call.
    """
    if not should_show_progress(total, enabled=enabled, threshold=threshold, stream=stream):
        yield _noop
        return
    lock = threading.Lock()
    out = stream if stream is not None else sys.stderr
    with tqdm(
        total=total,
        desc=description,
        unit="B",
        unit_scale=True,
        unit_divisor=1024,
        file=out,
        leave=True,
    ) as bar:

        def advance(nbytes: int) -> None:
            with lock:
                bar.update(nbytes)

        yield advance
