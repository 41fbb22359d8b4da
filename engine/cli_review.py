"""`consilium review status|sign` and `consilium check --require-review`: sign-off on the command line.

Parses the review subcommand's arguments, calls engine/analysis/review.py and prints the
states in words (or JSON) with an exit code: 0 done, 1 a release gate refuses, 2 bad
input (a malformed record, an unknown rule, a missing --by or --verdict). Labels come
first and ids in quotes after them, so that the list reads for a clinician and can be
pasted into `review sign`.
"""

from __future__ import annotations

import json
import sys

from .lang.diagnostics import DiagnosticsError, format_json, format_text

EXIT_OK, EXIT_FINDINGS, EXIT_INPUT = 0, 1, 2


def add_parser(commands) -> None:
    review = commands.add_parser("review", help="the auditors' sign-off per rule: status, sign",
                                 description="Record and list the auditors' reviews of the rules "
                                             "(kept in REVIEWS.toml beside the root rule file).")
    actions = review.add_subparsers(dest="review_command", metavar="ACTION")
    state = actions.add_parser("status", help="rules never reviewed, changed since their review, questioned")
    state.add_argument("path", nargs="?", help="knowledge-base folder or root .rules file")
    state.add_argument("--format", choices=("text", "json"), default="text")
    state.add_argument("--all", action="store_true", help="also list the approved rules")
    sign = actions.add_parser("sign", help="record a review of one or more rules")
    sign.add_argument("rules", nargs="+", metavar="RULE", help="rule ids (see `consilium review status`)")
    sign.add_argument("--kb", dest="path",
                      help="knowledge-base folder or root .rules file, beside which REVIEWS.toml is kept "
                           "(default: the bundled one, when it is a checkout rather than an installed package)")
    sign.add_argument("--by", required=True, help="who reviewed")
    sign.add_argument("--verdict", required=True, choices=("approved", "questioned", "rejected"))
    sign.add_argument("--comment", help="why (needed for questioned and rejected)")


def run(args, load) -> int:
    """`load(path)` gives the knowledge base (raising KnowledgeBaseError, reported by the caller)."""
    from .analysis.review import ReviewRecordError, sign, status
    if args.review_command is None:
        print("consilium review: give an action: status or sign", file=sys.stderr)
        return EXIT_INPUT
    if args.review_command == "sign" and args.path is None and _installed_kb() is not None:
        print(f"consilium review sign: the bundled knowledge base is installed inside Consilium ({_installed_kb()}); "
              "a review recorded there would be lost with the next upgrade. Copy it to a folder of your own "
              "(under version control) and sign there: --kb FOLDER", file=sys.stderr)
        return EXIT_INPUT
    kb = load(args.path)
    try:
        if args.review_command == "sign":
            done = sign(kb, args.rules, args.by, args.verdict, args.comment)
            where = status(kb).record.name
            for review in done:
                print(f"{review.verdict}: '{review.rule}' by {review.by}, {review.date.isoformat()}")
            print(f"recorded {len(done)} review{'s' if len(done) != 1 else ''} in {where}")
            return EXIT_OK
        current = status(kb)
    except ReviewRecordError as error:
        _diagnostics(error, getattr(args, "format", "text"))
        return EXIT_INPUT
    if args.format == "json":
        print(json.dumps(current.to_json(), indent=2, ensure_ascii=False))
    else:
        print(format_status(current, show_all=args.all))
        if current.count("approved") < len(current.rules):  # the next step, for a first-time auditor
            where = f" --kb {args.path}" if args.path else ""
            print(f"record a review: consilium review sign RULE...{where} --by NAME "
                  "--verdict approved|questioned|rejected [--comment TEXT]")
    return EXIT_OK


def _installed_kb():
    """The bundled knowledge base's folder when it lies in an installed package (not a checkout)."""
    import sysconfig
    from pathlib import Path
    from .kb import bundled_kb_path
    folder = bundled_kb_path()
    installed = {Path(sysconfig.get_path(name)).resolve() for name in ("purelib", "platlib")}
    return folder if any(root in folder.resolve().parents for root in installed) else None


def format_status(current, show_all: bool = False) -> str:
    from .analysis.review import STATE_WORDS
    out = []
    if current.orphans:
        out.append(format_text(current.orphan_diagnostics(), {current.record.name: current.record.text}))
    order = ("unreviewed", "changed", "rejected", "questioned") + (("approved",) if show_all else ())
    for state in order:
        members = [r for r in current.rules if r.state == state]
        if not members:
            continue
        out.append(f"{STATE_WORDS[state].capitalize()} ({len(members)})")
        for r in members:
            line = f"  {r.rule.label}  [{r.rule.kind} '{r.rule.id}'"
            line += f", {r.rule.span.file}:{r.rule.span.line}]" if r.rule.span else "]"
            out.append(line)
            if r.review is not None:
                review = r.review
                said = f" — “{review.comment}”" if review.comment else ""
                out.append(f"      {review.verdict} by {review.by} on {review.date.isoformat()}{said}")
    counts = ", ".join(f"{current.count(s)} {STATE_WORDS[s]}" for s in ("approved", "questioned", "rejected",
                                                                         "changed", "unreviewed"))
    where = current.record.name + ("" if current.record.path.exists() else ", not written yet")
    out.append(f"{len(current.rules)} rules (review record {where}): {counts}"
               + (f"; {len(current.orphans)} reviews of rules that no longer exist" if current.orphans else ""))
    return "\n".join(out)


def require_review(kb, fmt: str) -> tuple[bool, dict]:
    """The release gate: (passes, its JSON) after printing, in text, what blocks it."""
    from .analysis.review import ReviewRecordError, STATE_WORDS, status
    try:
        current = status(kb)
    except ReviewRecordError as error:
        _diagnostics(error, "text" if fmt == "text" else "none")
        return False, {"ok": False, "diagnostics": format_json(error.diagnostics)}
    blocking = current.blocking()
    if fmt == "text":
        if current.orphans:
            print(format_text(current.orphan_diagnostics(), {current.record.name: current.record.text}),
                  file=sys.stderr)
        for r in blocking:
            where = f"{r.rule.span}: " if r.rule.span else ""
            print(f"{where}review: {r.rule.kind} '{r.rule.id}' is {STATE_WORDS[r.state]}", file=sys.stderr)
        print(f"review: {len(current.rules) - len(blocking)} of {len(current.rules)} rules reviewed and "
              f"current" + (f"; {len(blocking)} block the release (never reviewed, changed since review, "
                            f"or rejected)" if blocking else ""), file=sys.stderr)
    return not blocking, {"ok": not blocking, "blocking": [r.to_json() for r in blocking],
                          "counts": current.to_json()["counts"]}


def _diagnostics(error: DiagnosticsError, fmt: str) -> None:
    if fmt == "json":
        print(json.dumps({"ok": False, "diagnostics": format_json(error.diagnostics)}, indent=2, ensure_ascii=False))
    elif fmt == "text":
        print(format_text(error.diagnostics, error.texts), file=sys.stderr)


__all__ = ["add_parser", "run", "require_review", "format_status"]
