"""`consilium cds-request [PATH] BUNDLE [--facts FILE] [--hook HOOK]`: print the CDS Hooks request
the service (`consilium serve`) takes for a FHIR bundle, to try it with curl.

Reads the bundle (checked as `consilium eval` reads one: a bad bundle is its diagnostics and
exit 2) and the facts file beside it (a flat case of what FHIR does not carry), and prints the
request of engine/service/request.py as JSON. It sends nothing.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any, Callable

from .inputs.case import read_case
from .inputs.fhir import read_bundle_file, with_facts
from .lang.diagnostics import DiagnosticsError
from .service.request import HOOKS, cds_request


def add_parser(commands: Any) -> argparse.ArgumentParser:
    parser = commands.add_parser("cds-request", help="print the CDS Hooks request `serve` takes for a FHIR bundle")
    parser.add_argument("paths", nargs="+", metavar="[PATH] BUNDLE",
                        help="knowledge base (optional) and a FHIR R4 bundle (.json)")
    parser.add_argument("--facts", metavar="FILE",
                        help="JSON or YAML of the facts FHIR does not carry (the team's judgements)")
    parser.add_argument("--hook", choices=HOOKS, default="patient-view",
                        help="the hook (default patient-view); with an order hook, the bundle's draft orders "
                             "become context.draftOrders")
    return parser


def run(args: argparse.Namespace, load: Callable[[str | None], Any], report: Callable[[Any, str], None]) -> int:
    if len(args.paths) > 2:
        print("consilium cds-request: give at most a knowledge base and one bundle", file=sys.stderr)
        return 2
    kb_path, bundle_path = args.paths if len(args.paths) == 2 else (None, args.paths[0])
    try:
        kb = load(kb_path)
        read = read_bundle_file(bundle_path, kb.facts)   # its diagnostics, as eval gives them
        facts = None
        if args.facts is not None:
            facts, positions = read_case(args.facts)
            with_facts(read, facts, kb.facts, name=args.facts, positions=positions)
    except DiagnosticsError as error:
        report(error, "text")
        return 2
    bundle = json.loads(Path(bundle_path).read_text(encoding="utf-8"))
    request = cds_request(kb, bundle, args.hook, facts)
    print(json.dumps(request, indent=2, ensure_ascii=False, default=str))   # a YAML date as its ISO text
    return 0
