"""The web UI: static files shipped inside the package, served by ``mltrail server`` at ``/``.

The UI is plain ES modules and CSS (no build step); it talks only to the server's JSON API.
Metric line charts use uPlot, vendored under ``static/vendor/uplot/`` (``make vendor-js``); the
compare page's other plots use plotly.js from the ``plotly`` Python package. The server serves
both itself, so a page never fetches anything from the internet.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

__all__ = ["STATIC_DIR", "plotly_bundle"]

STATIC_DIR: Path = Path(__file__).resolve().parent / "static"
"""The directory holding ``index.html``, ``css/`` and ``js/``."""


def plotly_bundle() -> Path | None:
    """The path of plotly.js shipped in the ``plotly`` package, or None when it is not installed."""
    try:
        candidate = resources.files("plotly") / "package_data" / "plotly.min.js"
    except ModuleNotFoundError:
        return None
    path = Path(str(candidate))
    return path if path.is_file() else None
