"""The cohort audit report, from a cohort run in DuckDB, checked in headless Chromium.

The page must be self-contained (no script, nothing fetched), its charts visible, its
counts the ones the rows give (checked against a count made here from the same rows),
and the patients who did not get a recommended treatment listed by row number. A
screenshot is kept for a person (out/audit-screenshot.png).
"""

from __future__ import annotations

import json
import random
from collections import Counter

import pytest

import consilium
from casegen import as_written, random_case
from conftest import KB, ROOT, run_cli
from test_report_browser import CHROMIUM, DRIVER, browser  # noqa: F401 - the shared browser fixture

pytestmark = pytest.mark.skipif(not (CHROMIUM and DRIVER),
                                reason="headless Chromium and chromedriver are not installed")


@pytest.fixture(scope="module")
def audited(tmp_path_factory):
    kb = consilium.load_kb(KB)
    folder = tmp_path_factory.mktemp("audit")
    rng = random.Random(5)
    actions = sorted({a for p in kb.checked.pathways for n in p.nodes for a in getattr(n, "actions", ()) or ()})
    cohort, received = folder / "cohort.jsonl", folder / "received.jsonl"
    with cohort.open("w") as cases, received.open("w") as given:
        for _ in range(3000):
            cases.write(json.dumps({k: as_written(v) for k, v in random_case(kb.facts, rng).items()}) + "\n")
            given.write(json.dumps({"received": rng.sample(actions, 2)}) + "\n")
    rows = folder / "rows.parquet"
    assert run_cli("eval", "--cohort", cohort, "--engine", "duckdb", "-o", rows).code == 0
    page = folder / "audit.html"
    done = run_cli("audit", "--rows", rows, "--cohort", received, "-o", page)
    assert done.code == 0, done.err
    return kb, rows, page


def test_the_page_is_self_contained(audited):
    _, _, page = audited
    text = page.read_text()
    assert "<script" not in text and "http://" not in text.replace("http://www.w3.org/2000/svg", "")
    assert "https://" not in text


def test_counts_and_charts_in_chromium(audited, browser):  # noqa: F811
    import pyarrow.parquet as pq
    kb, rows, page = audited
    table = pq.read_table(rows).to_pylist()
    applies = Counter(r for row in table for r in row["recommendations"] or ())
    needed = Counter(f for row in table for f in row["needs"] or ())
    browser.get(page.as_uri())
    summary = browser.find_element("id", "summary").text
    assert summary.startswith(f"{len(table):,} patients")
    bars = browser.execute_script("""
        return Array.from(document.querySelectorAll('#applies svg.bars g')).map(g => [
            g.querySelector('title').textContent, g.querySelectorAll('text')[1].textContent,
            g.querySelector('rect').getBoundingClientRect().width]);""")
    assert len(bars) == len(applies)
    for title, text, width in bars:
        rule = title.split(" ")[0]
        assert text.startswith(f"{applies[rule]:,}") and width > 0
    missing = browser.execute_script("""return Array.from(document.querySelectorAll('#missing svg.bars title'))
        .map(t => t.textContent);""")
    assert missing == [f for f, _ in needed.most_common(20)]
    stacked = browser.execute_script("return document.querySelectorAll('#agreement svg.stacked rect').length")
    assert stacked > 0
    rules = browser.execute_script("""return Array.from(document.querySelectorAll('#per-rule tr[data-rule]'))
        .map(r => [r.dataset.rule, r.cells[2].textContent, r.cells[4].textContent]);""")
    assert rules and all(share.endswith("%") for _, share, _ in rules)
    assert any(listed.strip() for _, _, listed in rules)  # the patients not followed, by row number
    assert browser.get_log("browser") == []
    (ROOT / "out").mkdir(exist_ok=True)
    browser.save_screenshot(str(ROOT / "out" / "audit-screenshot.png"))
