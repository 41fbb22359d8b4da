"""The patient's resources for a CDS Hooks request: from its prefetch, else from its FHIR server.

Takes a request's `prefetch`, `fhirServer`, `fhirAuthorization` and the service's prefetch
templates; returns the resources (a list of dicts) and the problems met (resources that could
not be fetched). A prefetch value may be a resource, a Bundle (a search result) or null; a
template the prefetch leaves out is fetched from `fhirServer` with the access token as a
Bearer token (httpx), following a search's `next` pages a few times. It evaluates nothing.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import httpx

MAX_PAGES = 5
TIMEOUT = httpx.Timeout(10.0, connect=5.0)


class RequestError(Exception):
    """Something a request says that the service cannot work with (answered with 400)."""


def fill(template: str, context: Mapping[str, Any]) -> str:
    """A prefetch template with its {{context.X}} tokens replaced from the request's context."""
    def value(match: re.Match) -> str:
        found = context.get(match.group(1))
        if not isinstance(found, (str, int)):
            raise RequestError(f"the prefetch template needs context.{match.group(1)}, which the request does not give")
        return str(found)
    return re.sub(r"\{\{\s*context\.(\w+)\s*\}\}", value, template)


def resources_of(value: Any) -> list[dict]:
    """The resources a prefetch value holds: a Bundle's entries, or the resource itself."""
    if value is None:
        return []
    if not isinstance(value, Mapping) or not isinstance(value.get("resourceType"), str):
        raise RequestError("a prefetch value is a FHIR resource, a Bundle or null")
    if value["resourceType"] == "Bundle":
        entries = value.get("entry") or []
        if not isinstance(entries, list):
            raise RequestError("a prefetched Bundle's 'entry' is not a list")
        return [e["resource"] for e in entries if isinstance(e, Mapping) and isinstance(e.get("resource"), Mapping)]
    return [dict(value)]


async def gather(request: Mapping, templates: Mapping[str, str], client: httpx.AsyncClient
                 ) -> tuple[list[dict], list[str]]:
    """The resources of the prefetch, and of the templates it lacks fetched from fhirServer."""
    prefetch = request.get("prefetch")
    if prefetch is not None and not isinstance(prefetch, Mapping):
        raise RequestError("'prefetch' is an object of prefetched resources")
    prefetch = prefetch or {}
    resources: list[dict] = []
    for value in prefetch.values():
        resources += resources_of(value)
    missing = [key for key in templates if prefetch.get(key) is None]
    server = request.get("fhirServer")
    if not missing:
        return resources, []
    if server is None:
        if prefetch:
            return resources, []  # the client chose what to send
        raise RequestError("the request has neither prefetch nor fhirServer: nothing tells about the patient")
    if not isinstance(server, str) or not re.match(r"https?://", server):
        raise RequestError("'fhirServer' is the base URL of a FHIR server (http or https)")
    headers = {"Accept": "application/fhir+json"}
    authorization = request.get("fhirAuthorization")
    if authorization is not None:
        if not isinstance(authorization, Mapping) or not isinstance(authorization.get("access_token"), str):
            raise RequestError("'fhirAuthorization' needs its 'access_token'")
        headers["Authorization"] = f"Bearer {authorization['access_token']}"
    context = request.get("context") or {}
    problems: list[str] = []
    for key in missing:
        url = server.rstrip("/") + "/" + fill(templates[key], context)
        for _ in range(MAX_PAGES):
            try:
                response = await client.get(url, headers=headers, timeout=TIMEOUT)
            except httpx.HTTPError as exc:
                problems.append(f"{url}: {type(exc).__name__}: {exc}")
                break
            if response.status_code != 200:
                problems.append(f"{url}: HTTP {response.status_code}")
                break
            try:
                data = response.json()
                resources += resources_of(data)
            except (ValueError, RequestError) as exc:
                problems.append(f"{url}: not a FHIR resource or Bundle ({exc})")
                break
            links = (data.get("link") or []) if data.get("resourceType") == "Bundle" else []
            following = next((link.get("url") for link in links
                              if isinstance(link, Mapping) and link.get("relation") == "next"), None)
            if not isinstance(following, str) or not following:
                break
            url = following
    return resources, problems
