"""The cohort audit report: a cohort's rows -> one self-contained HTML page with SVG charts.

Takes a knowledge base and the rows `consilium eval --cohort` wrote (any engine; JSON Lines,
CSV or Parquet), and optionally the cohort itself with a column of the actions each
patient actually received (the vocabulary of the rules' `action`). Streams the rows once,
counting, so memory does not grow with the cohort; returns the page: how many patients
each recommendation and warning applies to, per source and per site; how often the
sources agree, complement each other or conflict at each site; which missing facts hold
up the most decisions; and, with the treatment received, the share of guideline-concordant
care per source and per recommendation, with the rows of the patients who did not get it.
Charts are inline SVG (no script, nothing fetched), so the file can be mailed or archived.
Not here: evaluating cases (engine/inputs/cohort*.py).
"""

from __future__ import annotations

import csv
import html
import json
import sys
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from itertools import combinations
from pathlib import Path
from typing import Iterator, Sequence

from ..engine.evaluation.concordance import AGAINST
from ..engine.inputs.cohort import read_rows
from ..engine.lang import ir
from ..engine.lang.diagnostics import UsageError
from ..engine.lang.files import OutputError, ensure_folder, kind_of, refuse_overwrite, write_file

RELATIONS = ("concordant", "complementary", "conflicting", "silent")
SHOWN_MISSES = 25  # patients listed per recommendation not followed


def read_result_rows(path: Path) -> Iterator[dict]:
    """The rows of a cohort's results, lists as lists whatever the file format.

    A file that is not such rows (not UTF-8, not JSON, a row of the wrong shape, a corrupt
    Parquet file) is a UsageError naming the file and the row: the page is never drawn from
    a part of the rows."""
    suffix = path.suffix.lower()
    if not path.is_file():
        raise UsageError(f"no rows file '{path}'")
    if suffix not in (".jsonl", ".ndjson", ".json", ".csv", ".parquet", ".pq"):
        raise UsageError(f"'{path}': rows are a .jsonl, .csv or .parquet file")
    try:
        for line, row in _raw_result_rows(path, suffix):
            yield _result_row(row, line)
    except _NotARow as exc:
        raise UsageError(f"{path}:{exc.line}: not a row of `consilium eval --cohort`: {exc}") from None
    except UnicodeDecodeError as exc:
        raise UsageError(f"{path}: not a file of `consilium eval --cohort`: it is not UTF-8 text "
                         f"(byte 0x{exc.object[exc.start]:02x})") from None
    except (OSError, ValueError, csv.Error) as exc:  # pyarrow's errors are OSError or ValueError
        raise UsageError(f"cannot read the rows '{path}': {exc}") from None


class _NotARow(ValueError):
    def __init__(self, message: str, line: int):
        super().__init__(message)
        self.line = line


def _raw_result_rows(path: Path, suffix: str) -> Iterator[tuple[int, dict]]:
    """(line, or row of a Parquet file; the row) for each row of the file."""
    if suffix == ".csv":
        with path.open(encoding="utf-8", newline="") as handle:
            reader = csv.DictReader(handle)
            for row in reader:
                if None in row or None in row.values():
                    raise _NotARow("it has more or fewer cells than the header has columns", reader.line_num)
                try:
                    yield reader.line_num, {k: (int(v) if k == "row" else (v or None) if k == "error" else
                                                [p for p in (v or "").split("|") if p]) for k, v in row.items()}
                except ValueError:
                    raise _NotARow(f"its row number is {(row.get('row') or '')[:40]!r}", reader.line_num) from None
    elif suffix in (".parquet", ".pq"):
        import pyarrow
        import pyarrow.parquet as pq
        number = 0
        try:
            for batch in pq.ParquetFile(path).iter_batches(batch_size=10_000):
                for row in batch.to_pylist():
                    number += 1
                    yield number, row
        except pyarrow.ArrowException as exc:
            raise ValueError(str(exc)) from None
    else:
        with path.open(encoding="utf-8") as handle:
            for number, line in enumerate(handle, start=1):
                if line.strip():
                    try:
                        yield number, json.loads(line)
                    except json.JSONDecodeError as exc:
                        raise _NotARow(exc.msg, number) from None


_LISTS = ("recommendations", "warnings", "needs")


def _result_row(row, line: int) -> dict:
    """The row, when it has the shape `eval --cohort` writes; _NotARow otherwise."""
    if not isinstance(row, dict):
        raise _NotARow("it is not a mapping", line)
    number = row.get("row")
    if number is not None and (isinstance(number, bool) or not isinstance(number, int)):
        raise _NotARow(f"its row number is {str(number)[:40]!r}", line)
    if row.get("error") is not None and not isinstance(row["error"], str):
        raise _NotARow("its error is not text", line)
    for key in _LISTS:  # what the page counts
        value = row.get(key)
        if value is not None and (not isinstance(value, list) or not all(isinstance(v, str) for v in value)):
            raise _NotARow(f"its {key} are not a list of names", line)
    return row


def read_received(cohort: Path, column: str) -> dict[int, frozenset[str]]:
    """Row number -> the actions the patient received, from the cohort's `column` (text with
    '|' between actions, or a list of them); any other value is a UsageError naming the row."""
    found: dict[int, frozenset[str]] = {}
    named = False  # some row has the column, if only empty
    for number, kind, payload in read_rows(cohort):
        if kind == "json":
            try:
                payload = json.loads(payload)
            except json.JSONDecodeError:
                continue
        named = named or (isinstance(payload, dict) and column in payload)
        value = payload.get(column) if isinstance(payload, dict) else None
        if value is None or value == "":
            continue
        if isinstance(value, str):
            value = [p.strip() for p in value.split("|") if p.strip()]
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise UsageError(f"{cohort}:{number}: the column '{column}' names the actions received, as text "
                             f"(actions separated by '|') or a list of texts, not {str(value)[:60]!r}")
        found[number] = frozenset(value)
    if not named:  # else every patient would count as having received nothing
        raise UsageError(f"{cohort}: no row has a column '{column}', the actions each patient received "
                         f"(--received names the column)")
    return found


@dataclass
class Tally:
    """What the page shows, counted row by row."""

    rows: int = 0
    errors: int = 0
    applies: Counter = field(default_factory=Counter)            # recommendation -> patients
    warned: Counter = field(default_factory=Counter)             # warning -> patients
    by_site: Counter = field(default_factory=Counter)            # (site, rule) -> patients
    relations: Counter = field(default_factory=Counter)          # (site, source, source, relation) -> patients
    needed: Counter = field(default_factory=Counter)             # fact -> patients waiting for it
    undecided: int = 0
    with_received: int = 0
    source_care: Counter = field(default_factory=Counter)        # (source, followed?) -> patients
    rule_care: Counter = field(default_factory=Counter)          # (rule, followed?) -> patients
    misses: dict = field(default_factory=lambda: defaultdict(list))  # rule -> rows not followed
    unnamed: Counter = field(default_factory=Counter)            # received action no rule names -> patients


class Auditor:
    def __init__(self, kb):
        checked = kb  # what the audit reads of the knowledge base, through its facade
        self.kb = kb
        self.sources = list(checked.sources)
        self.rules = {n.id: n for p in checked.pathways for n in p.nodes if isinstance(n, ir.Recommend)}
        self.sites_of = {n.id: p.sites for p in checked.pathways for n in p.nodes}
        self.site_labels = {s.id: s.label for s in checked.sites.values()}
        self.actions = {a for n in self.rules.values() for a in n.actions}  # the vocabulary received is in
        self.tally = Tally()

    def add(self, row: dict, received: frozenset[str] | None) -> None:
        t = self.tally
        t.rows += 1
        if row.get("error"):
            t.errors += 1
            return
        fired = [r for r in row.get("recommendations") or () if r in self.rules]
        t.applies.update(fired)
        t.warned.update(row.get("warnings") or ())
        needs = row.get("needs") or ()
        t.needed.update(needs)
        t.undecided += bool(needs)
        for rule in fired:
            for site in self.sites_of.get(rule, ()):
                t.by_site[(site, rule)] += 1
        self._relate(fired)
        if received is not None:
            self._care(row, fired, received)

    def _stance(self, fired: list[str], site: str, source: str) -> tuple[set[str], set[str]]:
        pro: set[str] = set()
        con: set[str] = set()
        for rule in fired:
            node = self.rules[rule]
            if node.provenance.source == source and site in self.sites_of.get(rule, ()):
                (con if node.modality in AGAINST else pro).update(node.actions or (rule,))
        return pro, con

    def _relate(self, fired: list[str]) -> None:
        for site in self.site_labels:
            stances = {s: self._stance(fired, site, s) for s in self.sources}
            for a, b in combinations(self.sources, 2):
                (pa, ca), (pb, cb) = stances[a], stances[b]
                if not (pa or ca) or not (pb or cb):
                    relation = "silent"
                elif pa & cb or pb & ca:
                    relation = "conflicting"
                elif pa & pb:
                    relation = "concordant"
                else:
                    relation = "complementary"
                self.tally.relations[(site, a, b, relation)] += 1

    def _care(self, row: dict, fired: list[str], received: frozenset[str]) -> None:
        t = self.tally
        t.with_received += 1
        t.unnamed.update(received - self.actions)  # a typo ('FOLFOX') would match nothing, silently
        for source in self.sources:
            mine = [self.rules[r] for r in fired if self.rules[r].provenance.source == source]
            pro = {a for n in mine if n.modality not in AGAINST for a in n.actions}
            con = {a for n in mine if n.modality in AGAINST for a in n.actions}
            if pro or con:
                t.source_care[(source, bool((not pro or pro & received) and not con & received))] += 1
        for rule in fired:
            node = self.rules[rule]
            if not node.actions:
                continue
            followed = bool(set(node.actions) & received) != (node.modality in AGAINST)
            t.rule_care[(rule, followed)] += 1
            if not followed and len(t.misses[rule]) < SHOWN_MISSES:
                t.misses[rule].append(row.get("row"))


def audit(kb, rows: Path, cohort: Path | None = None, received: str = "received", progress: bool = False) -> Tally:
    auditor = Auditor(kb)
    given = read_received(cohort, received) if cohort is not None else None
    started = time.perf_counter()
    for row in read_result_rows(rows):
        auditor.add(row, given.get(row.get("row", 0), frozenset()) if given is not None else None)
        if progress and auditor.tally.rows % 50_000 == 0:
            rate = auditor.tally.rows / max(time.perf_counter() - started, 1e-9)
            print(f"\r{auditor.tally.rows:,} rows read, {rate:,.0f} rows/s", end="", file=sys.stderr, flush=True)
    if progress:
        print(file=sys.stderr)
    return auditor.tally


# ---- the page ------------------------------------------------------------------------------------

def _bars(items: Sequence[tuple[str, float, str]], total: int, unit: str = "patients") -> str:
    """A horizontal bar chart as inline SVG: (label, value, title) per bar."""
    if not items:
        return "<p class='none'>none</p>"
    width, label_w, row_h = 860, 340, 22
    top = max(max(v for _, v, _ in items), 1)
    parts = [f"<svg class='bars' role='img' width='{width}' height='{row_h * len(items) + 4}' "
             f"xmlns='http://www.w3.org/2000/svg'>"]
    for i, (label, value, title) in enumerate(items):
        y = i * row_h + 2
        w = (width - label_w - 120) * value / top
        share = f" ({100 * value / total:.1f} %)" if total else ""
        parts.append(f"<g><title>{html.escape(title)}</title>"
                     f"<text x='{label_w - 6}' y='{y + 15}' text-anchor='end'>{html.escape(_short(label))}</text>"
                     f"<rect x='{label_w}' y='{y + 3}' width='{w:.1f}' height='{row_h - 6}'></rect>"
                     f"<text x='{label_w + w + 6:.1f}' y='{y + 15}'>{value:,.0f}{share}</text></g>")
    parts.append("</svg>")
    return "".join(parts)


def _short(label: str, room: int = 46) -> str:
    return label if len(label) <= room else label[:room - 1].rstrip() + "…"


def _stacked(rows: list[tuple[str, dict[str, int]]]) -> str:
    """One stacked bar per pair of sources: how often they agree, complement, conflict, are silent."""
    width, label_w, row_h = 760, 220, 24
    colours = {"concordant": "#2e7d32", "complementary": "#1565c0", "conflicting": "#c62828", "silent": "#bdbdbd"}
    parts = [f"<svg class='stacked' role='img' width='{width}' height='{row_h * len(rows) + 30}' "
             f"xmlns='http://www.w3.org/2000/svg'>"]
    for i, (label, counts) in enumerate(rows):
        y, x = i * row_h + 2, float(label_w)
        total = sum(counts.values()) or 1
        parts.append(f"<text x='{label_w - 6}' y='{y + 16}' text-anchor='end'>{html.escape(label)}</text>")
        for relation in RELATIONS:
            w = (width - label_w - 10) * counts.get(relation, 0) / total
            if w > 0:
                parts.append(f"<rect class='{relation}' x='{x:.1f}' y='{y + 3}' width='{w:.1f}' height='{row_h - 6}' "
                             f"fill='{colours[relation]}'><title>{relation}: {counts.get(relation, 0):,}</title>"
                             "</rect>")
                x += w
    legend_y = row_h * len(rows) + 20
    for j, relation in enumerate(RELATIONS):
        parts.append(f"<rect x='{label_w + j * 130}' y='{legend_y - 10}' width='12' height='12' "
                     f"fill='{colours[relation]}'></rect>"
                     f"<text x='{label_w + j * 130 + 16}' y='{legend_y}'>{relation}</text>")
    parts.append("</svg>")
    return "".join(parts)


_STYLE = """body{font:14px/1.45 system-ui,sans-serif;margin:2em auto;max-width:980px;color:#222}
h1{font-size:1.6em}h2{margin-top:2em;border-bottom:1px solid #ddd}table{border-collapse:collapse;margin:.6em 0}
td,th{padding:.2em .6em;border-bottom:1px solid #eee;text-align:left}td.n{text-align:right}
svg text{font:12px system-ui,sans-serif;fill:#222}svg.bars rect{fill:#5c6bc0}.none{color:#777}
nav a{margin-right:1em}"""


def page(kb, tally: Tally, title: str) -> str:
    t = tally
    evaluated = t.rows - t.errors
    labels = {n.id: n.label for p in kb.pathways for n in p.nodes if hasattr(n, "label")}
    labels.update({s.id: s.label for s in kb.safeties})
    rules = {n.id: n for p in kb.pathways for n in p.nodes if isinstance(n, ir.Recommend)}
    out = [f"<!doctype html><html lang='en'><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
           f"<style>{_STYLE}</style></head><body><h1>{html.escape(title)}</h1>",
           "<nav><a href='#applies'>Recommendations</a><a href='#warnings'>Warnings</a><a href='#sites'>Per site</a>"
           "<a href='#agreement'>Agreement</a><a href='#missing'>Missing facts</a>"
           "<a href='#care'>Concordant care</a></nav>",
           f"<p id='summary'>{t.rows:,} patients; {evaluated:,} evaluated, {t.errors:,} rows with errors; "
           f"{t.undecided:,} with at least one decision waiting for a missing fact.</p>"]
    out.append("<section id='applies'><h2>Recommendations: how many patients each applies to</h2>")
    for source in kb.sources:
        items = [(labels.get(r, r), n, f"{r} ({source})") for r, n in t.applies.most_common()
                 if rules[r].provenance.source == source]
        out.append(f"<h3>{html.escape(source)}</h3>" + _bars(items, evaluated))
    out.append("</section><section id='warnings'><h2>Warnings</h2>")
    out.append(_bars([(labels.get(w, w), n, w) for w, n in t.warned.most_common()], evaluated))
    out.append("</section><section id='sites'><h2>Per site</h2>")
    for site, label in {s.id: s.label for s in kb.sites.values()}.items():
        rows = sorted(((r, n) for (s, r), n in t.by_site.items() if s == site), key=lambda x: -x[1])
        body = "".join(f"<tr><td>{html.escape(rules[r].provenance.source)}</td><td>{html.escape(labels.get(r, r))}</td>"
                       f"<td class='n'>{n:,}</td></tr>" for r, n in rows)
        out.append(f"<h3>{html.escape(label)}</h3><table class='site' data-site='{html.escape(site)}'>"
                   f"<tr><th>source</th><th>recommendation</th><th>patients</th></tr>{body}</table>")
    out.append("</section><section id='agreement'><h2>How the sources relate, per site</h2>")
    for site, label in {s.id: s.label for s in kb.sites.values()}.items():
        pairs = []
        for a, b in combinations(kb.sources, 2):
            counts = {r: t.relations[(site, a, b, r)] for r in RELATIONS}
            if sum(counts[r] for r in RELATIONS[:3]):
                pairs.append((f"{a} / {b}", counts))
        out.append(f"<h3>{html.escape(label)}</h3>" + (_stacked(pairs) if pairs else "<p class='none'>no two "
                                                                                   "sources speak here</p>"))
    out.append("</section><section id='missing'><h2>Missing facts that hold up the most decisions</h2>")
    facts = kb.facts
    out.append(_bars([(facts[f].label if f in facts else f, n, f) for f, n in t.needed.most_common(20)], evaluated))
    out.append("</section><section id='care'><h2>Guideline-concordant care</h2>")
    if not t.with_received:
        out.append("<p class='none'>The cohort gives no treatment received (run with --cohort and a "
                   "column of the actions each patient received).</p>")
    else:
        shares: list[tuple[str, float, str]] = []
        for source in kb.sources:
            yes, no = t.source_care[(source, True)], t.source_care[(source, False)]
            if yes + no:
                shares.append((source, 100 * yes / (yes + no), f"{yes:,} of {yes + no:,} patients"))
        if t.unnamed:
            named = ", ".join(f"<code>{html.escape(a)}</code> ({n:,} patient{'s' if n != 1 else ''})"
                              for a, n in sorted(t.unnamed.items()))
            out.append(f"<p class='unnamed'>Treatments received that no rule names, so that they follow no "
                       f"recommendation (a rule's <code>action</code> words are the vocabulary): {named}.</p>")
        out.append("<h3>Per source (% of the patients it speaks for)</h3>" + _bars(shares, 0, "%"))
        lines: list[str] = []
        def judged(rule: str) -> int:
            return t.rule_care[(rule, True)] + t.rule_care[(rule, False)]
        order = {rule: i for i, rule in enumerate(rules)}  # ties in the knowledge base's order, not a set's
        for rule in sorted({r for r, _ in t.rule_care}, key=lambda r: (-judged(r), order.get(r, len(order)))):
            yes, no = t.rule_care[(rule, True)], t.rule_care[(rule, False)]
            missed = ", ".join(str(r) for r in t.misses.get(rule, ()))
            more = " ..." if no > len(t.misses.get(rule, ())) else ""
            lines.append(f"<tr data-rule='{html.escape(rule)}'><td>{html.escape(rules[rule].provenance.source)}</td>"
                        f"<td>{html.escape(labels.get(rule, rule))}</td>"
                        f"<td class='n'>{100 * yes / (yes + no):.1f} %</td>"
                        f"<td class='n'>{no:,}</td><td>{missed}{more}</td></tr>")
        out.append("<h3>Per recommendation</h3><table id='per-rule'><tr><th>source</th><th>recommendation</th>"
                   "<th>followed</th><th>not followed</th><th>rows not followed</th></tr>"
                   + "".join(lines) + "</table>")
    out.append("</section></body></html>")
    return "\n".join(out)


def write_audit(kb, rows: Path, output: Path, *, cohort: Path | None = None, received: str = "received",
                progress: bool = False) -> Path:
    """Write the page to `output`, beside it and renamed when complete (engine/lang/files.py).

    An output that is one of the inputs (the rows, the cohort, a rule file) is refused before
    any work, as is one that cannot be written (OutputError: a usage error, exit 2)."""
    refuse_overwrite(output, [rows, *([cohort] if cohort is not None else []), *kb.loaded.paths], "audit page")
    ensure_folder(output.parent if str(output.parent) else Path("."))
    if kind_of(output) == "folder":
        raise OutputError(f"cannot write '{output}': it is a folder, and -o names the page's file")
    tally = audit(kb, rows, cohort, received, progress)
    return write_file(output, page(kb, tally, f"Cohort audit: {rows.name}"))


__all__ = ["Auditor", "Tally", "audit", "page", "read_result_rows", "read_received", "write_audit"]
