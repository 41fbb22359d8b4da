"""`consilium preview [PATH]`: a page beside the editor with the flowcharts and the scenario results,
redrawn whenever a rule file changes.

A small Starlette app on the loopback. The knowledge base is loaded again (in a worker thread)
each time a file in its folder changes, as `watchfiles` reports it; every open page hears of
it through a server-sent event and fetches the new state: the chart chosen (its SVG drawn by
the same code as `consilium render`), the scenario results, or the diagnostics when the rules do
not load (the last charts that loaded stay on the page, greyed, so the editor keeps their bearings).

Routes: `/` the page; `/state` the knowledge base's state as JSON (version, charts, scenarios,
errors); `/chart/NAME.svg` one chart; `/events` the stream of versions.
"""

from __future__ import annotations

import asyncio
import contextlib
import html
import json
import threading
import webbrowser
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, AsyncIterator

from ..kb import bundled_kb_path, load_kb
from ..lang.diagnostics import ConsiliumError, DiagnosticsError, format_text
from ..lang.load import resolve_root


@dataclass
class Preview:
    """The knowledge base as last loaded, and a version number that grows with every change."""

    path: Path
    version: int = 0
    kb: Any = None
    errors: str = ""
    scenarios: list[dict[str, Any]] = field(default_factory=list)
    svgs: dict[str, bytes] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)
    changed: asyncio.Event | None = None

    def reload(self) -> None:
        """Load the knowledge base again; on failure keep the last one that loaded, with the errors."""
        from ..analysis.scenarios import run_scenarios
        try:
            kb = load_kb(self.path, use_cache=False)
            outcomes = run_scenarios(kb)
            scenarios = [{"name": o.scenario.id, "label": o.scenario.label, "passed": o.passed,
                          "failures": [f"expected {f.expected}, got {f.actual}" for f in o.failures]}
                         for o in outcomes]
            errors = ""
        except DiagnosticsError as error:
            kb, scenarios = None, None
            errors = format_text(error.diagnostics, getattr(error, "texts", {}))
        except ConsiliumError as error:
            kb, scenarios, errors = None, None, str(error)
        with self.lock:
            if kb is not None:
                self.kb, self.scenarios, self.svgs = kb, scenarios or [], {}
            self.errors = errors
            self.version += 1

    def svg(self, name: str) -> bytes | None:
        from ... import render
        with self.lock:
            kb, version = self.kb, self.version
            if name in self.svgs:
                return self.svgs[name]
        if kb is None:
            return None
        spec = next((s for s in render.chart_specs(kb) if s.name == name), None)
        if spec is None:
            return None
        svg = render.layout(render.chart(kb, spec).source, "svg")
        with self.lock:
            if self.version == version:
                self.svgs[name] = svg
        return svg

    def state(self) -> dict[str, Any]:
        with self.lock:
            return {"version": self.version, "errors": self.errors, "scenarios": self.scenarios,
                    "charts": self.charts(), "root": str(self.path)}

    def charts(self) -> list[dict[str, str]]:
        """The charts of the last knowledge base that loaded (the caller holds the lock)."""
        from ... import render
        kb = self.kb
        return [{"name": s.name, "title": s.title, "kind": s.kind} for s in render.chart_specs(kb)] if kb else []


def app(preview: Preview) -> Any:
    """The Starlette application serving one knowledge base's preview."""
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import HTMLResponse, JSONResponse, Response, StreamingResponse
    from starlette.routing import Route

    async def page(request: Request) -> HTMLResponse:
        return HTMLResponse(PAGE.replace("{title}", html.escape(str(preview.path))))

    async def state(request: Request) -> JSONResponse:
        return JSONResponse(preview.state())

    async def chart(request: Request) -> Response:
        name = request.path_params["name"]
        svg = await asyncio.to_thread(preview.svg, name)
        if svg is None:
            return JSONResponse({"error": f"no chart named '{name}'"}, status_code=404)
        return Response(svg, media_type="image/svg+xml")

    async def events(request: Request) -> StreamingResponse:
        async def stream() -> AsyncIterator[str]:
            seen = -1
            while not await request.is_disconnected():
                if preview.version != seen:
                    seen = preview.version
                    yield f"data: {json.dumps({'version': seen})}\n\n"
                assert preview.changed is not None
                try:
                    await asyncio.wait_for(preview.changed.wait(), 15)
                except asyncio.TimeoutError:
                    yield ": still here\n\n"  # keeps proxies and the browser from closing the stream
        return StreamingResponse(stream(), media_type="text/event-stream", headers={"Cache-Control": "no-store"})

    async def watch() -> None:
        from watchfiles import awatch
        preview.changed = asyncio.Event()
        folder = preview.path.parent if preview.path.is_file() else preview.path
        async for _changes in awatch(folder, watch_filter=lambda _, name: name.endswith(".rules")):
            await asyncio.to_thread(preview.reload)
            event, preview.changed = preview.changed, asyncio.Event()
            event.set()

    @contextlib.asynccontextmanager
    async def lifespan(_: Any) -> AsyncIterator[None]:
        preview.changed = asyncio.Event()
        watcher = asyncio.get_running_loop().create_task(watch())
        try:
            yield
        finally:
            watcher.cancel()

    return Starlette(routes=[Route("/", page), Route("/state", state), Route("/chart/{name}.svg", chart),
                             Route("/events", events)], lifespan=lifespan)


def serve(path: str | None, host: str, port: int, *, open_browser: bool = True) -> int:
    """Serve the preview until interrupted; 2 when the path names no knowledge base."""
    import sys

    import uvicorn
    root, problems = resolve_root(path if path is not None else bundled_kb_path())
    if root is None:
        print(format_text(problems), file=sys.stderr)
        return 2
    from .ports import port_taken
    taken = port_taken(host, port)
    if taken is not None:  # said before anything starts: uvicorn's own error came after the address
        print(f"consilium preview: {taken} (another preview there? choose another --port)", file=sys.stderr)
        return 2
    preview = Preview(root)
    preview.reload()
    url = f"http://{host}:{port}/"
    print(f"consilium preview: {root} at {url} (redrawn when a rule file changes; Ctrl-C stops)", file=sys.stderr)
    if open_browser:
        threading.Timer(0.5, lambda: webbrowser.open(url)).start()
    uvicorn.run(app(preview), host=host, port=port, log_level="warning")
    return 0


PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Consilium preview: {title}</title>
<style>
 body { font: 14px/1.4 system-ui, sans-serif; margin: 0; display: grid;
        grid-template-columns: 18rem 1fr; height: 100vh; }
 nav { overflow: auto; border-right: 1px solid #ccc; padding: .5rem; background: #fafafa; }
 nav a { display: block; padding: .15rem .3rem; color: #124; text-decoration: none; border-radius: 3px; }
 nav a.chosen { background: #dde7f3; font-weight: 600; }
 main { overflow: auto; padding: .5rem 1rem; }
 #errors { white-space: pre-wrap; font-family: ui-monospace, monospace; background: #fff0f0; border: 1px solid #e99;
           padding: .5rem; display: none; }
 #chart.stale { opacity: .35; }
 #chart svg { max-width: 100%; height: auto; }
 .failed { color: #a00; } .passed { color: #060; }
 #status { color: #666; font-size: 12px; }
</style></head>
<body>
<nav><div id="status">loading…</div><h3>Charts</h3><div id="charts"></div>
<h3>Scenarios</h3><div id="scenarios"></div></nav>
<main><pre id="errors"></pre><div id="chart"></div></main>
<script>
let chosen = null, version = -1;
async function refresh() {
  const state = await (await fetch('/state')).json();
  version = state.version;
  document.getElementById('status').textContent = 'version ' + state.version + ' · ' + state.root;
  document.body.dataset.version = state.version;
  const errors = document.getElementById('errors');
  errors.textContent = state.errors; errors.style.display = state.errors ? 'block' : 'none';
  document.getElementById('chart').classList.toggle('stale', !!state.errors);
  const list = document.getElementById('charts'); list.innerHTML = '';
  if (!chosen || !state.charts.some(c => c.name === chosen)) chosen = state.charts.length ? state.charts[0].name : null;
  for (const c of state.charts) {
    const a = document.createElement('a'); a.href = '#' + c.name; a.textContent = c.title; a.dataset.chart = c.name;
    if (c.name === chosen) a.className = 'chosen';
    a.onclick = (e) => { e.preventDefault(); chosen = c.name; refresh(); };
    list.appendChild(a);
  }
  const scenarios = document.getElementById('scenarios'); scenarios.innerHTML = '';
  for (const s of state.scenarios) {
    const d = document.createElement('div'); d.className = s.passed ? 'passed' : 'failed';
    d.textContent = (s.passed ? '✓ ' : '✗ ') + s.label; d.title = s.failures.join('\\n'); scenarios.appendChild(d);
  }
  if (chosen && !state.errors) {
    const response = await fetch('/chart/' + encodeURIComponent(chosen) + '.svg?v=' + state.version);
    if (response.ok) { document.getElementById('chart').innerHTML = await response.text(); }
  }
  document.body.dataset.drawn = state.version;
}
const events = new EventSource('/events');
events.onmessage = (e) => { if (JSON.parse(e.data).version !== version) refresh(); };
refresh();
</script></body></html>
"""
