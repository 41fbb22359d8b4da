"""`consilium serve`: the knowledge base as a CDS Hooks 2.0 service (Starlette on uvicorn).

Takes a knowledge base's path and the service's settings; serves
  GET  /cds-services                     discovery: three services, prefetch from the KB's bindings
  POST /cds-services/{id}                patient-view, order-select, order-sign: cards
  GET  /cases/{token}/report             the case's review report (HTML), linked from the cards
  GET  /cases/{token}/flowchart/{chart}  one of the case's flowcharts (SVG)
Requests are authenticated by the CDS client's JWT (auth.py) unless --insecure-no-auth; a
body beyond the size limit is 413; bad JSON, an unknown hook, missing context are 400 with a
JSON error; nothing a client sends reaches a traceback. The knowledge base reloads on SIGHUP
or, with --watch, when a rule file changes: requests in flight finish with the one they began
with, and a knowledge base that fails to load leaves the old one serving.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import sys
import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Mapping
from typing import Any

import httpx
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route

from ..inputs.fhir import prefetch_templates, read_bundle, with_facts
from ..kb import KnowledgeBase, bundled_kb_path, load_kb
from ..lang.diagnostics import CaseError, DiagnosticsError, format_text
from .auth import AuthError, Verifier
from .cards import order_cards, patient_view_cards, problems_card
from .fhir_client import RequestError, gather
from .ports import port_taken
from .request import FACTS_EXTENSION

MAX_REQUEST_BYTES = 5 * 1024 * 1024
# FACTS_EXTENSION: the CDS Hooks request extension (spec: "extension", names namespaced) that
# carries facts FHIR does not: the team's judgements, as a flat case writes them.
CASES_KEPT, CASE_TTL = 500, 3600.0  # results kept for the cards' links: how many, how long (seconds)
SERVICES = {
    "consilium-patient-view": ("patient-view", "Guideline recommendations for this patient",
                               "What the knowledge base's sources recommend and warn about for this patient, "
                               "each with its quote, and the questions still open."),
    "consilium-order-select": ("order-select", "Errors to avoid in the orders being selected",
                               "Checks the draft orders against the knowledge base's safety rules."),
    "consilium-order-sign": ("order-sign", "Errors to avoid in the orders being signed",
                             "Checks the draft orders against the knowledge base's safety rules before signing."),
}


def log(message: str) -> None:
    print(f"consilium serve: {message}", file=sys.stderr, flush=True)


class Holder:
    """The knowledge base being served; swapped whole on reload, so a request keeps the one it read."""

    def __init__(self, path: str | None, kb: KnowledgeBase):
        self.path, self.kb = path, kb
        self._lock = threading.Lock()
        self.stamp = self._stamp()

    def _stamp(self) -> tuple:
        stamps: list[tuple[str, int | None, int | None]] = []
        for file in self.kb.files:
            try:
                stats = os.stat(file)
                stamps.append((file, stats.st_mtime_ns, stats.st_size))
            except OSError:
                stamps.append((file, None, None))
        return tuple(stamps)

    def reload(self) -> bool:
        with self._lock:
            try:
                kb = load_kb(self.path if self.path is not None else bundled_kb_path())
            except DiagnosticsError as error:
                log("the knowledge base did not reload; the previous one goes on serving:\n"
                    + format_text(error.diagnostics, error.texts))
                self.stamp = self._stamp()
                return False
            self.kb = kb
            self.stamp = self._stamp()
            log(f"knowledge base reloaded: {kb.root} ({len(kb.facts)} facts, {len(kb.pathways)} pathways)")
            return True

    def changed(self) -> bool:
        return self._stamp() != self.stamp


class Cases:
    """The last results, by an unguessable token, for the links of the cards (bounded, expiring)."""

    def __init__(self) -> None:
        self._items: OrderedDict[str, tuple[float, KnowledgeBase, Any]] = OrderedDict()
        self._lock = threading.Lock()

    def put(self, kb: KnowledgeBase, result) -> str:
        token = uuid.uuid4().hex
        with self._lock:
            self._items[token] = (time.monotonic(), kb, result)
            while len(self._items) > CASES_KEPT:
                self._items.popitem(last=False)
        return token

    def get(self, token: str):
        with self._lock:
            item = self._items.get(token)
        if item is None or time.monotonic() - item[0] > CASE_TTL:
            return None
        return item[1], item[2]


def error(status: int, message: str, **extra: Any) -> JSONResponse:
    headers = {"WWW-Authenticate": 'Bearer realm="cds-services"'} if status == 401 else None
    return JSONResponse({"error": message, "status": status, **extra}, status_code=status, headers=headers)


class Contained:
    """The app, with whatever exception escapes it ending here: Starlette answers it (the
    `internal` handler: a JSON 500 and one line in the log) and then raises it again so that a
    server can log it, which uvicorn does with a traceback. Here it stops: the log keeps the one
    line, and an answer not yet begun is the JSON 500."""

    def __init__(self, app: Starlette):
        self.app = app

    async def __call__(self, scope, receive, send) -> None:
        started = False

        async def sending(message) -> None:
            nonlocal started
            started = started or message.get("type") == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, sending)
        except Exception as exc:
            if scope.get("type") != "http":
                raise  # the lifespan's failures are the server's to report at start
            if not started:
                log(f"internal error on {scope.get('path')}: {type(exc).__name__}: {exc}")
                await error(500, "internal error in Consilium; the service's log says more")(scope, receive, send)


def create_app(holder: Holder, *, verifier: Verifier | None, max_bytes: int = MAX_REQUEST_BYTES,
               watch: bool = False, public_url: str | None = None) -> Contained:
    cases = Cases()
    state: dict[str, Any] = {}

    def base(request: Request) -> str:
        return (public_url or str(request.base_url)).rstrip("/")

    async def discovery(request: Request) -> Response:
        kb = holder.kb
        templates = prefetch_templates(kb.facts)
        # What the record cannot tell, a client may send beside it (the request's extension).
        unbound = sorted(name for name, fact in kb.facts.items() if not fact.bindings)
        extension = {FACTS_EXTENSION: {
            "description": "Facts FHIR does not carry (the team's judgements), given in the request's "
                           f"extension.{FACTS_EXTENSION} as a flat case writes them",
            "facts": unbound}}
        return JSONResponse({"services": [
            {"hook": hook, "title": title, "description": description, "id": sid, "prefetch": templates,
             "extension": extension}
            for sid, (hook, title, description) in SERVICES.items()]})

    async def call(request: Request) -> Response:
        sid = request.path_params["service_id"]
        if sid not in SERVICES:
            return error(404, f"no CDS service '{sid}'; GET /cds-services lists them")
        hook = SERVICES[sid][0]
        length = request.headers.get("content-length")
        if length is not None and (not length.isdigit() or int(length) > max_bytes):
            return error(413, f"the request is larger than {max_bytes} bytes")
        if verifier is not None:
            endpoint = base(request) + request.url.path
            try:
                await run_in_threadpool(verifier.verify, request.headers.get("authorization"), endpoint)
            except AuthError as exc:
                return error(401, str(exc))
        body = bytearray()
        async for chunk in request.stream():
            body += chunk
            if len(body) > max_bytes:
                return error(413, f"the request is larger than {max_bytes} bytes")
        if not body.strip():
            return error(400, "the request body is empty: a CDS Hooks request is a JSON object with 'hook', "
                              "'hookInstance' and 'context'")
        try:
            payload = json.loads(body.decode("utf-8"))
        except UnicodeDecodeError:
            return error(400, "the request body is not UTF-8 text")
        except RecursionError:
            return error(400, "the request body nests too deeply to read")
        except json.JSONDecodeError as exc:
            return error(400, f"the request body is not valid JSON (line {exc.lineno}, column {exc.colno})")
        try:
            return JSONResponse(await answer(request, payload, hook))
        except RequestError as exc:
            return error(400, str(exc))

    async def answer(request: Request, payload: Any, hook: str) -> dict:
        if not isinstance(payload, Mapping):
            raise RequestError("the request is a JSON object with 'hook', 'hookInstance' and 'context'")
        asked = payload.get("hook")
        if asked != hook:
            other = next((sid for sid, (h, _, _) in SERVICES.items() if h == asked), None)
            raise RequestError("the request names no 'hook'" if asked is None else
                               f"this service answers '{hook}', not '{asked}': POST it to /cds-services/{other}"
                               if other else f"unknown hook {asked!r}: this service answers '{hook}'")
        if not isinstance(payload.get("hookInstance"), str):
            raise RequestError("the request has no 'hookInstance'")
        context = payload.get("context")
        if not isinstance(context, Mapping):
            raise RequestError("the request has no 'context' object")
        if not isinstance(context.get("patientId"), str) or not context["patientId"]:
            raise RequestError("the request's context has no 'patientId'")
        drafts: dict[str, dict] = {}
        if hook != "patient-view":
            orders = context.get("draftOrders")
            if not isinstance(orders, Mapping) or orders.get("resourceType") != "Bundle":
                raise RequestError(f"an {hook} request's context needs 'draftOrders', a Bundle of the orders "
                                   "being written")
            entries = orders.get("entry") or []
            if not isinstance(entries, list):
                raise RequestError("the draftOrders Bundle's 'entry' is not a list")
            for entry in entries:
                resource = entry.get("resource") if isinstance(entry, Mapping) else None
                if isinstance(resource, Mapping) and isinstance(resource.get("resourceType"), str):
                    drafts[f"{resource['resourceType']}/{resource.get('id')}"] = dict(resource)
        extension = payload.get("extension")
        if extension is not None and not isinstance(extension, Mapping):
            raise RequestError("the request's 'extension' is an object")
        team = (extension or {}).get(FACTS_EXTENSION)
        if team is not None and not isinstance(team, Mapping):
            raise RequestError(f"extension.{FACTS_EXTENSION} is an object of fact names and values")
        kb = holder.kb  # this request's knowledge base, whatever reloads meanwhile
        resources, problems = await gather(payload, prefetch_templates(kb.facts), state["client"])
        bundle = _bundle(resources, drafts.values())
        own = f"Consilium: {kb.identity.name}"  # the knowledge base's name, not a path on the server
        cards: list[dict] = []
        if problems:
            cards.append({"uuid": str(uuid.uuid4()), "summary": "Part of the patient's record could not be fetched",
                          "indicator": "warning", "source": {"label": own},
                          "detail": "\n".join(f"- {p}" for p in problems)})
        def read_with_team(resources_bundle: dict, name: str):
            read = read_bundle(resources_bundle, kb.facts, name=name)
            return read if team is None else with_facts(read, team, kb.facts, name=f"extension.{FACTS_EXTENSION}")

        try:
            read = read_with_team(bundle, f"{hook} {payload['hookInstance']}")
        except CaseError as caught:
            return {"cards": cards + [problems_card("The patient's record (or the facts beside it) could not be read: "
                                                    "the guidelines were not checked", caught.diagnostics, [], own)]}
        result = kb.evaluate_bundle(read)
        token = cases.put(kb, result)
        links = _links(kb, result, f"{base(request)}/cases/{token}")
        if hook == "patient-view":
            cards += patient_view_cards(kb, result, links, own)
        else:
            def variant(ref: str, replacement: Mapping | None) -> dict | None:
                kept = [replacement if r == ref else d for r, d in drafts.items() if r != ref or replacement]
                try:
                    return read_with_team(_bundle(resources, kept),
                                          f"{hook} {payload['hookInstance']} with {ref} changed").values
                except CaseError:
                    return None
            cards += await run_in_threadpool(order_cards, kb, result, drafts, links, variant, own)
        return {"cards": cards}

    async def case_report(request: Request) -> Response:
        found = cases.get(request.path_params["token"])
        if found is None:
            return error(404, "no such case (the links of a card last an hour)")
        kb, result = found
        html = await run_in_threadpool(_report_html, kb, result)
        return HTMLResponse(html)

    async def case_flowchart(request: Request) -> Response:
        found = cases.get(request.path_params["token"])
        if found is None:
            return error(404, "no such case (the links of a card last an hour)")
        kb, result = found
        svg = await run_in_threadpool(_flowchart_svg, kb, result, request.path_params["chart"])
        if svg is None:
            return error(404, f"no chart '{request.path_params['chart']}'")
        return Response(svg, media_type="image/svg+xml")

    async def not_found(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)  # the handler is registered for HTTPException only
        if exc.status_code == 405:  # say what is allowed: a service is POSTed to, discovery is a GET
            allowed = (exc.headers or {}).get("Allow", "")
            return error(405, f"{request.method} is not allowed on {request.url.path}"
                         + (f": use {allowed}" if allowed else ""))
        return error(exc.status_code, exc.detail or "not found")

    async def internal(request: Request, exc: Exception) -> Response:
        log(f"internal error on {request.url.path}: {type(exc).__name__}: {exc}")
        return error(500, "internal error in Consilium; the service's log says more")

    async def watcher() -> None:
        while True:
            await asyncio.sleep(1.0)
            if holder.changed():
                await asyncio.to_thread(holder.reload)

    @contextlib.asynccontextmanager
    async def lifespan(app):
        state["client"] = httpx.AsyncClient(follow_redirects=False)
        loop = asyncio.get_running_loop()
        # SIGHUP reloads, where there is one (not on Windows) and this loop owns the signals (the
        # main thread); --watch reloads everywhere. A loop without signal support says so.
        if hasattr(signal, "SIGHUP") and threading.current_thread() is threading.main_thread():
            try:
                loop.add_signal_handler(signal.SIGHUP,
                                        lambda: threading.Thread(target=holder.reload, daemon=True).start())
            except NotImplementedError:  # an event loop that cannot watch signals
                print("consilium serve: this event loop cannot reload on SIGHUP; use --watch", file=sys.stderr)
        task = asyncio.create_task(watcher()) if watch else None
        yield
        if task is not None:
            task.cancel()
        await state["client"].aclose()

    routes = [Route("/cds-services", discovery, methods=["GET"]),
              Route("/cds-services/{service_id}", call, methods=["POST"]),
              Route("/cases/{token}/report", case_report, methods=["GET"]),
              Route("/cases/{token}/flowchart/{chart}.svg", case_flowchart, methods=["GET"])]
    # The CDS Hooks specification asks services to allow cross-origin calls: browser-based CDS
    # clients (a SMART app, the sandbox) call from another origin. Tokens travel in a header, not
    # cookies, so allowing any origin gives a page nothing it could not send itself.
    cors = Middleware(CORSMiddleware, allow_origins=["*"], allow_methods=["GET", "POST", "OPTIONS"],
                      allow_headers=["Authorization", "Content-Type"])
    return Contained(Starlette(routes=routes, lifespan=lifespan, middleware=[cors],
                               exception_handlers={HTTPException: not_found, Exception: internal}))


def _bundle(resources, drafts) -> dict:
    """One collection Bundle of the patient's resources and the draft orders (a draft wins over its stored copy)."""
    entries: dict[str, dict] = {}
    for resource in list(resources) + list(drafts):
        key = f"{resource.get('resourceType')}/{resource.get('id')}" if resource.get("id") else str(id(resource))
        entries[key] = resource
    return {"resourceType": "Bundle", "type": "collection", "entry": [{"resource": r} for r in entries.values()]}


_PATHWAY_CHARTS: dict[int, tuple[KnowledgeBase, list]] = {}  # by knowledge base: worked out once each


def _pathway_charts(kb) -> list:
    found = _PATHWAY_CHARTS.get(id(kb))
    if found is None or found[0] is not kb:
        from ...render import chart_specs
        if len(_PATHWAY_CHARTS) > 8:  # reloads leave old knowledge bases behind
            _PATHWAY_CHARTS.clear()
        found = _PATHWAY_CHARTS[id(kb)] = (kb, [s for s in chart_specs(kb) if s.kind == "pathway"])
    return found[1]


def _touched_chart(kb, result):
    specs = _pathway_charts(kb)
    taken = {step.pathway for step in result.trace if step.next}
    return next((s for s in specs if any(p in taken for _, ids in s.groups for p in ids)), specs[0] if specs else None)


def _links(kb, result, case_url: str) -> list[dict]:
    links = [{"label": "Review report of this case", "url": f"{case_url}/report", "type": "absolute"}]
    spec = _touched_chart(kb, result)
    if spec is not None:
        links.append({"label": f"Flowchart: {spec.title}"[:80], "url": f"{case_url}/flowchart/{spec.name}.svg",
                      "type": "absolute"})
    return links


def _report_html(kb, result) -> str:
    import tempfile

    from ... import render
    with tempfile.TemporaryDirectory() as folder:
        return render.write_report(kb, folder, result, "the patient of this CDS Hooks request").read_text(
            encoding="utf-8")


def _flowchart_svg(kb, result, name: str) -> bytes | None:
    from ... import render
    spec = next((s for s in render.chart_specs(kb) if s.name == name), None)
    if spec is None:
        return None
    return render.layout(render.chart(kb, spec, result).source, "svg")


def settings_problems(args) -> list[str]:
    """What is wrong with the service's settings, in words (empty when nothing): checked before
    anything starts, so a bad option is one clear line and exit 2, never a traceback or a port
    the operating system silently takes modulo 65536."""
    import socket
    from urllib.parse import urlsplit

    problems = []
    if not 1 <= args.port <= 65535:
        problems.append(f"--port {args.port}: a port is a whole number from 1 to 65535")
    if args.max_request_bytes < 1024:
        problems.append(f"--max-request-bytes {args.max_request_bytes}: give at least 1024 bytes "
                        "(a CDS Hooks request with its context is rarely under a kilobyte)")
    if not args.host or not args.host.strip():
        problems.append("--host is empty: give an address to listen on, such as 127.0.0.1")
    elif 1 <= args.port <= 65535:
        try:
            socket.getaddrinfo(args.host, args.port, type=socket.SOCK_STREAM)
        except (socket.gaierror, UnicodeError) as exc:
            problems.append(f"--host {args.host!r}: not an address this machine can listen on ({exc})")
    if args.public_url is not None:
        parts = urlsplit(args.public_url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            problems.append(f"--public-url {args.public_url!r}: the service's base URL, http:// or https:// "
                            "with a host (such as https://cds.example.org)")
    for audience in args.audience or ():
        parts = urlsplit(audience)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            problems.append(f"--audience {audience!r}: a URL, http:// or https:// with a host")
    if args.insecure_no_auth and args.trusted_issuers:
        problems.append("give --trusted-issuers or --insecure-no-auth, not both")
    return problems


def main(args) -> int:
    """Run the service (called by the command line with its parsed arguments)."""
    import uvicorn

    from .auth import TrustError, read_trusted_issuers
    problems = settings_problems(args)
    if problems:
        for problem in problems:
            log(problem)
        return 2
    verifier = None  # --insecure-no-auth: said loudly once the service is about to start
    if args.trusted_issuers:
        try:
            verifier = Verifier(read_trusted_issuers(args.trusted_issuers), tuple(args.audience or ()))
        except TrustError as exc:
            log(str(exc))
            return 2
    elif not args.insecure_no_auth:
        log("say whom to trust: --trusted-issuers FILE (the CDS clients' issuers and keys), or --insecure-no-auth "
            "for a local demonstration")
        return 2
    try:
        kb = load_kb(args.path if args.path is not None else bundled_kb_path())
    except DiagnosticsError as error_:
        log("the knowledge base did not load:\n" + format_text(error_.diagnostics, error_.texts))
        return 2
    taken = port_taken(args.host, args.port)
    if taken is not None:
        log(taken + " (another service there? choose another --port)")
        return 2
    if args.insecure_no_auth:
        bar = "!" * 78
        # Not through log(): its prefix would stand alone on a line before the banner.
        print(f"{bar}\n!! INSECURE: --insecure-no-auth: any client may call this service without a JWT.\n"
              f"!! For a local demonstration only; never with real patients' data.\n{bar}", file=sys.stderr, flush=True)
    holder = Holder(args.path, kb)
    app = create_app(holder, verifier=verifier, max_bytes=args.max_request_bytes, watch=args.watch,
                     public_url=args.public_url)
    log(f"serving {kb.root} on http://{args.host}:{args.port}/cds-services"
        + (" (reloads when a rule file changes)" if args.watch else "") + f"; SIGHUP (kill -HUP {os.getpid()}) reloads")
    config = uvicorn.Config(app, host=args.host, port=args.port, log_level="warning", access_log=False,
                            lifespan="on", timeout_graceful_shutdown=5)
    uvicorn.Server(config).run()
    return 0


__all__ = ["create_app", "Contained", "Holder", "main", "settings_problems", "SERVICES"]
