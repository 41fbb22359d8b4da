"""A FHIR read server for the tests, on the loopback: real HTTP, holding a bundle's resources.

GET /{Type}/{id} reads a resource; GET /{Type}?patient={id} searches a type by patient (a
searchset Bundle, paged two entries a page so that `next` links are followed); GET
/jwks.json serves a JWKS for the authentication tests. Every FHIR request must carry
`Authorization: Bearer <token>` with the server's token (else 401). Requests are recorded.
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

PAGE = 2


class FhirServer:
    def __init__(self, resources: list[dict], token: str, jwks: dict | None = None):
        self.resources, self.token, self.jwks = resources, token, jwks or {"keys": []}
        self.requests: list[tuple[str, str | None]] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # quiet
                pass

            def do_GET(self):  # noqa: N802 - http.server's name
                server.requests.append((self.path, self.headers.get("Authorization")))
                url = urlparse(self.path)
                if url.path == "/jwks.json":
                    return self.reply(200, server.jwks)
                if self.headers.get("Authorization") != f"Bearer {server.token}":
                    return self.reply(401, {"resourceType": "OperationOutcome", "issue": [
                        {"severity": "error", "code": "login", "diagnostics": "bad token"}]})
                parts = [p for p in url.path.split("/") if p]
                if len(parts) == 2:
                    found = [r for r in server.resources if r["resourceType"] == parts[0] and r.get("id") == parts[1]]
                    return self.reply(200, found[0]) if found else self.reply(404, {"resourceType": "OperationOutcome"})
                if len(parts) == 1:
                    query = parse_qs(url.query)
                    patient = (query.get("patient") or [""])[0]
                    offset = int((query.get("_offset") or ["0"])[0])
                    about = f"Patient/{patient}"
                    matches = [r for r in server.resources if r["resourceType"] == parts[0]
                               and (r.get("subject") or r.get("patient") or {}).get("reference") == about]
                    page = matches[offset:offset + PAGE]
                    bundle = {"resourceType": "Bundle", "type": "searchset", "total": len(matches),
                              "entry": [{"resource": r} for r in page], "link": []}
                    if offset + PAGE < len(matches):
                        bundle["link"].append({"relation": "next", "url": f"{server.url}/{parts[0]}?patient={patient}"
                                                                          f"&_offset={offset + PAGE}"})
                    return self.reply(200, bundle)
                return self.reply(404, {"resourceType": "OperationOutcome"})

            def reply(self, status: int, data: dict) -> None:
                body = json.dumps(data).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/fhir+json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self) -> "FhirServer":
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
