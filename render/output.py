"""Turning DOT into SVG and PNG, and writing chart files: the only part of `render` with I/O.

Layout is done by the `dot` of the `graphviz-pure` wheel (a pure-Rust port of Graphviz,
same output on every platform, no system package needed), found beside the running
Python (the virtualenv's scripts folder) before PATH; a system `dot` is used only where
that wheel is absent. The Python `graphviz` package runs it.
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
import sys
import tempfile
import sysconfig
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Iterable

import graphviz
from graphviz.backend import dot_command

from ..engine.lang.diagnostics import ConsiliumError

FORMATS = ("dot", "svg", "png")


class RenderError(ConsiliumError):
    """No layout program could be found or run."""


def find_dot() -> Path:
    """The layout program: graphviz-pure from this Python's scripts folder, then PATH, then `dot`."""
    names = ["graphviz-pure", "graphviz-pure.exe"]
    folders = [Path(sys.executable).parent, Path(sysconfig.get_path("scripts"))]
    for folder in folders:
        for name in names:
            candidate = folder / name
            if candidate.is_file() and os.access(candidate, os.X_OK):
                return candidate
    for name in ["graphviz-pure", "dot"]:
        found = shutil.which(name)
        if found:
            return Path(found)
    raise RenderError("no Graphviz layout program found: install the 'graphviz-pure' package "
                      "(pip install graphviz-pure) or a system Graphviz")


def layout(source: str, fmt: str) -> bytes:
    """The chart laid out as SVG or PNG, by the Python graphviz package and graphviz-pure's dot."""
    if fmt == "dot":
        return source.encode("utf-8")
    _use_dot()
    try:
        return graphviz.pipe("dot", fmt, source.encode("utf-8"), quiet=True)
    except (graphviz.ExecutableNotFound, graphviz.CalledProcessError) as exc:
        raise RenderError(f"the layout program failed on a chart: {exc}") from None


@functools.cache
def _use_dot() -> None:
    # The graphviz package reads its executable from this module attribute (its documented
    # DOT_BINARY); point it once at the program find_dot chose.
    dot_command.DOT_BINARY = find_dot()


def layout_all(jobs: Iterable[tuple[str, str]]) -> list[bytes]:
    """Lay out each (DOT source, format), two at a time, in order."""
    # Each layout is a separate process, so threads are enough to use both cores.
    with ThreadPoolExecutor(max_workers=2) as pool:
        return list(pool.map(lambda job: layout(*job), jobs))


def write_charts(charts: Iterable[tuple[str, str]], folder: Path, formats: Iterable[str]) -> list[Path]:
    """Write each (name, DOT source) in each format."""
    folder.mkdir(parents=True, exist_ok=True)
    jobs = [(name, source, fmt) for name, source in charts for fmt in formats]
    paths = [folder / f"{name}.{fmt}" for name, _, fmt in jobs]
    for path, data in zip(paths, layout_all((source, fmt) for _, source, fmt in jobs), strict=True):
        path.write_bytes(data)
    return paths


BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "chrome")


def find_browser() -> Path | None:
    """A headless-capable Chromium, where one is installed."""
    for name in BROWSERS:
        found = shutil.which(name)
        if found:
            return Path(found)
    return None


def print_pdf(page: Path, target: Path) -> Path:
    """Print an HTML page to PDF with headless Chromium, honouring the page's print stylesheet."""
    browser = find_browser()
    if browser is None:
        raise RenderError("--pdf prints through headless Chromium, which is not installed "
                          "(Debian: apt-get install chromium)")
    with tempfile.TemporaryDirectory(prefix="consilium-pdf-") as profile:
        command = [str(browser), "--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run",
                   "--disable-background-networking", "--disable-component-update", "--disable-sync",
                   f"--user-data-dir={profile}", "--no-pdf-header-footer", "--run-all-compositor-stages-before-draw",
                   f"--print-to-pdf={target.resolve()}", page.resolve().as_uri()]
        try:
            done = subprocess.run(command, capture_output=True, text=True, timeout=300)
        except (OSError, subprocess.SubprocessError) as exc:
            raise RenderError(f"Chromium could not print the report: {exc}") from None
    if done.returncode != 0 or not target.is_file() or target.stat().st_size == 0:
        raise RenderError(f"Chromium could not print the report (exit {done.returncode}): "
                          f"{done.stderr.strip().splitlines()[-1] if done.stderr.strip() else 'no output'}")
    return target
