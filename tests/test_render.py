"""Flowcharts: structure, a case's path, escaping, formats, determinism, golden DOT files.

Structure is asserted on the DOT the charts are built from; the layout program is run to
prove SVG and PNG come out (and the same bytes each time). The golden DOT files of the
bundled knowledge base are refreshed only with `pytest --update-golden`.
"""

from __future__ import annotations

import re

import pytest

import consilium
import consilium.render as render
from conftest import DATA, KB, ROOT, run_cli
from consilium.render.flowchart import Footnote, chart, chart_specs, draw
from consilium.render.pages import paginate

GOLDEN = DATA / "render" / "golden"


@pytest.fixture(scope="module")
def kb():
    return consilium.load_kb(DATA / "render")


def dot_of(kb, name, result=None) -> str:
    spec = next(s for s in chart_specs(kb) if s.name == name)
    return chart(kb, spec, result).source


def node_line(dot: str, node: str) -> str:
    [line] = [each for each in dot.splitlines() if re.match(rf"\s*{re.escape(node)} \[", each)]
    return line


def edge_line(dot: str, tail: str, head: str) -> str:
    [line] = [each for each in dot.splitlines() if re.match(rf"\s*{re.escape(tail)} -> {re.escape(head)}\b", each)]
    return line


def test_the_charts_a_knowledge_base_offers(kb):
    assert [s.name for s in chart_specs(kb)] == [
        "pathway-approach", "pathway-other", "source-S", "source-T", "site-liver", "safety"]


def test_shapes_labels_and_provenance(kb):
    dot = dot_of(kb, "pathway-approach")
    decision = node_line(dot, "how_many")
    assert "shape=diamond" in decision and 'label="How many segments?\\n[1]"' in decision
    assert 'label="≤ 3 segments"' in edge_line(dot, "how_many", "simultaneous")
    assert 'label=otherwise' in edge_line(dot, "how_many", "staged")
    rec = node_line(dot, "simultaneous")
    assert "shape=box" in rec and "recommended · S [2]" in rec
    assert 'tooltip="“Simultaneous surgery when 3 or fewer segments.” — S, refs 1"' in rec
    assert 'URL="#rule-simultaneous"' in rec
    guarded = node_line(dot, "egfr")
    assert "if kras: wild type" in guarded
    warning = node_line(dot, "schedule_plan_warning")
    assert "shape=box" in warning and "peripheries=2" in warning and "Warning: Mind the plan" in warning
    plan = node_line(dot, "sequence")
    assert "shape=folder" in plan and "Second: 11 days to 18 days" in plan
    # the footnotes are a table beside the chart (the report's), not text in the image
    assert "Simultaneous surgery when 3 or fewer segments.” (S" not in dot
    spec = next(s for s in chart_specs(kb) if s.name == "pathway-approach")
    assert draw(kb, spec).footnotes[1] == Footnote(2, "simultaneous", "S", None, (1,),
                                                   "Simultaneous surgery when 3 or fewer segments.",
                                                   "Simultaneous surgery")


def test_a_chart_says_what_it_was_drawn_from_and_stays_byte_stable(kb):
    spec = next(s for s in chart_specs(kb) if s.name == "pathway-approach")
    dot = chart(kb, spec, identity=kb.identity).source
    assert f"Consilium {consilium.__version__} · knowledge base sha256:{kb.identity.short_digest}" in dot
    assert kb.identity.digest.startswith("sha256:") and len(kb.identity.digest) == 71
    assert chart(kb, spec, identity=kb.identity).source == dot  # no time in a chart
    assert re.search(r"20\d\d-\d\d-\d\dT", dot) is None


def test_a_large_pathway_is_drawn_as_linked_pages(bundled_kb):
    specs = [s for s in chart_specs(bundled_kb, paged=True) if s.chart == "pathway-hepatic_metastases"]
    assert len(specs) > 5 and specs[0].page == (1, len(specs))
    for pathway in bundled_kb.pathways:  # every node is on a page, and on one page only but for a
        pages = paginate(pathway)          # node drawn again with the rest of its followers
        assert {n for p in pages for n in p.nodes} == {n.id for n in pathway.nodes}, pathway.id
        assert all(pages.count(p) == 1 for p in pages)
        again = [n for p in pages for n in p.nodes if p.part > 1 and n == p.root]
        assert sum(len(p.nodes) for p in pages) == len(pathway.nodes) + len(again), pathway.id
    first = draw(bundled_kb, specs[0]).source
    # an edge that leaves the page ends at a link to the page that continues it
    target = next(s for s in specs if "resectability" in s.nodes)
    assert f'URL="#{target.name}"' in first and "continued on page" in first
    back = draw(bundled_kb, target).source
    assert f'URL="#{specs[0].name}"' in back and "← from page 1" in back
    # small pathways stay whole; the composite charts are not part of the printed set
    names = [s.name for s in chart_specs(bundled_kb, paged=True)]
    assert "pathway-multidisciplinary_team" in names and not any(n.startswith(("site-", "source-")) for n in names)


def test_an_undecided_node_notes_only_the_facts_that_would_decide_it(bundled_kb):
    # Liver metastases alone, remnant not measured: the result asks for the remnant, never for
    # the lungs' resectability (read by the condition, but only beside 'lung in metastatic_sites',
    # false here); the chart's note says what the result says.
    result = bundled_kb.evaluate_file(ROOT / "examples" / "liver_workup_incomplete.json")
    assert [n.fact for n in result.needs if any(d.node == "resectability" for d in n.decides)] == \
        ["future_liver_remnant"]
    spec = next(s for s in chart_specs(bundled_kb, paged=True) if s.name == "pathway-hepatic_metastases-2")
    note = node_line(chart(bundled_kb, spec, result).source, "resectability__needs")
    assert "Future liver remnant volume" in note and "Lung metastases" not in note, note
    assert "extrahepatic" not in note, note
    safety = next(s for s in chart_specs(bundled_kb, paged=True) if s.name == "safety-1")
    unchecked = node_line(chart(bundled_kb, safety, result).source, "anti_egfr_without_kras_test__needs")
    assert "Treatment proposed by the team" in unchecked and "KRAS" not in unchecked, unchecked


def test_sources_have_colours_and_a_legend(kb):
    dot = dot_of(kb, "site-liver")
    assert "cluster_S" in dot and "cluster_T" in dot
    s_legend, t_legend = node_line(dot, "legend__S"), node_line(dot, "legend__T")
    assert 'color="#0072B2"' in s_legend and 'color="#D55E00"' in t_legend
    avoid = node_line(dot, "no_anti_egfr")
    assert "Do not: No anti-EGFR" in avoid and 'color="#C0392B"' in avoid


def test_a_case_path_is_bold_and_the_rest_grey(kb):
    result = kb.evaluate({"segments": 5, "start": "2025-01-06"})
    dot = dot_of(kb, "pathway-approach", result)
    assert 'penwidth=3' in node_line(dot, "how_many") and 'color="#111111"' in node_line(dot, "how_many")
    assert 'penwidth=3' in edge_line(dot, "how_many", "staged")
    assert 'color="#C9C9C9"' in edge_line(dot, "how_many", "simultaneous")
    assert 'fontcolor="#9A9A9A"' in node_line(dot, "simultaneous")
    undecided = node_line(dot, "egfr")
    assert "dashed" in undecided
    needs = node_line(dot, "egfr__needs")
    assert "needs:" in needs and "kras" in needs
    assert 'label=unknown' in edge_line(dot, "egfr", "egfr__needs")
    assert 'color="#C0392B"' in node_line(dot, "schedule_plan_warning")  # a raised warning is red
    assert "2025-01-17 to 2025-01-24" in node_line(dot, "sequence")      # the plan, dated for the case
    assert "legend__path" in dot


LABEL = '<script>alert("x")</script> {braces} back\\slash'


def test_markup_in_labels_is_escaped_in_dot_svg_and_html(kb, tmp_path):
    dot = dot_of(kb, "pathway-approach")
    line = node_line(dot, "staged_surgery")
    assert 'label="<script>alert(\\"x\\")</script>' in line          # a quoted string, not an HTML label
    assert "back\\\\slash" in line and "\\\\n not a newline" in line   # backslashes stay backslashes
    svg = render.layout(dot, "svg").decode()
    assert "<script" not in svg
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in svg
    assert "back\\slash" in svg
    page = render.write_report(kb, tmp_path).read_text()
    assert "<script" not in page
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; {braces} back\\slash" in page
    assert "Staged &lt;b&gt;surgery&lt;/b&gt; &amp; &quot;quotes&quot;" in page


def test_svg_and_png_are_produced_and_identical_run_to_run(kb, tmp_path):
    run = run_cli("render", DATA / "render", "-o", tmp_path / "a", "--format", "dot,svg,png")
    assert run.code == 0, run.err
    again = run_cli("render", DATA / "render", "-o", tmp_path / "b", "--format", "dot,svg,png")
    assert again.code == 0
    for name in ("pathway-approach", "site-liver", "safety"):
        assert (tmp_path / "a" / f"{name}.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert (tmp_path / "a" / f"{name}.svg").read_text().lstrip().startswith("<?xml")
        for fmt in ("dot", "svg", "png"):
            assert (tmp_path / "a" / f"{name}.{fmt}").read_bytes() == (tmp_path / "b" / f"{name}.{fmt}").read_bytes()


def test_render_with_a_case_and_chart_selection(tmp_path):
    case = ROOT / "examples" / "liver_five_segments_bleeding.yaml"
    run = run_cli("render", KB, "--case", case, "--chart", "pathway-hepatic_metastases", "--whole", "-o", tmp_path)
    assert run.code == 0 and run.out.strip() == f"wrote 2 files to {tmp_path}"
    dot = (tmp_path / "pathway-hepatic_metastases.dot").read_text()
    assert 'penwidth=3' in edge_line(dot, "surgical_approach", "staged_approaches")


def test_render_paged_writes_the_pages_of_a_chart(tmp_path):
    case = ROOT / "examples" / "liver_five_segments_bleeding.yaml"
    run = run_cli("render", KB, "--case", case, "--paged", "--chart", "pathway-hepatic_metastases", "-o", tmp_path,
                  "--format", "svg")
    assert run.code == 0, run.err
    pages = sorted(p.name for p in tmp_path.glob("*.svg"))
    assert len(pages) > 5 and all(p.startswith("pathway-hepatic_metastases-") for p in pages)
    links = set(re.findall(r'xlink:href="(pathway-hepatic_metastases-\d+\.svg)"', (tmp_path / pages[0]).read_text()))
    assert links and all((tmp_path / link).is_file() for link in links)  # a page links to the files of the others
    assert "pathway-hepatic_metastases-2" in run_cli("render", KB, "--paged", "--list").out.split()


def test_render_usage_errors():
    assert run_cli("render", KB, "--format", "gif").code == 2
    assert run_cli("render", KB, "--chart", "no-such-chart").code == 2
    with pytest.raises(SystemExit) as both:  # argparse: one or the other
        run_cli("render", KB, "--paged", "--whole")
    assert both.value.code == 2
    listed = run_cli("render", KB, "--whole", "--list")
    assert "site-liver" in listed.out.split() and "safety" in listed.out.split()


def test_render_draws_a_chart_too_large_to_print_as_its_pages_and_says_what_it_left_out(tmp_path):
    run = run_cli("render", KB, "-o", tmp_path, "--format", "svg")
    assert run.code == 0, run.err
    names = {p.stem for p in tmp_path.glob("*.svg")}
    # the main pathway (3000 x 1800 pt whole) as its linked pages; a small one whole
    assert "pathway-hepatic_metastases" not in names and "pathway-hepatic_metastases-2" in names
    assert "pathway-multidisciplinary_team" in names and {"safety-1", "safety-2"} <= names
    assert names == set(run_cli("render", KB, "--list").out.split())
    out = " ".join(run.out.split())
    assert "too large to print whole, drawn as linked pages: pathway-hepatic_metastases (17 pages)" in out
    assert "too large to print with text of 8 pt, not drawn: source-SUMMARY" in out and "site-liver" in out
    assert "`--whole` draws every chart as one image, for the screen" in out
    # asked for by name, a chart too large to print is refused, with the way to draw it
    refused = run_cli("render", KB, "--chart", "site-liver", "-o", tmp_path / "x")
    assert refused.code == 2 and not (tmp_path / "x").exists()
    assert "site-liver is too large to print with text of 8 pt on an A4 landscape sheet; `--whole` draws it" in \
        refused.err
    whole = run_cli("render", KB, "--chart", "site-liver", "--whole", "-o", tmp_path / "x", "--format", "dot")
    assert whole.code == 0 and (tmp_path / "x" / "site-liver.dot").is_file()
    # a small knowledge base's charts all print whole, the composite ones included
    small = run_cli("render", DATA / "render", "--list")
    assert small.out.split() == run_cli("render", DATA / "render", "--whole", "--list").out.split()


def test_the_layout_program_is_graphviz_pure_from_this_environment():
    assert render.find_dot().name.startswith("graphviz-pure")


def _every_chart():
    kb = consilium.load_kb(KB)
    whole = chart_specs(kb)
    named = {s.name for s in whole}
    return whole + [s for s in chart_specs(kb, paged=True) if s.name not in named]  # and the report's pages


@pytest.mark.parametrize("spec", _every_chart(), ids=lambda s: s.name)
def test_golden_dot_of_the_bundled_knowledge_base(bundled_kb, spec, update_golden):
    dot = chart(bundled_kb, spec).source
    golden = GOLDEN / f"{spec.name}.dot"
    if update_golden:
        golden.parent.mkdir(parents=True, exist_ok=True)
        golden.write_text(dot, encoding="utf-8")
    assert golden.exists(), f"no golden file for {spec.name}: run pytest --update-golden"
    assert dot == golden.read_text(encoding="utf-8"), f"{spec.name} changed: review, then pytest --update-golden"


def test_render_says_when_even_a_page_of_its_own_prints_too_small(tmp_path):
    long = " ".join(["word"] * 400)  # one box taller than a sheet: no cut makes it legible
    (tmp_path / "main.rules").write_text(f'''source S "s"
fact x : bool
pathway p "P" source S
    decide q "Q?"
        when x -> r
        otherwise -> end
    recommend r "{long}"
        modality recommended
        quote "q"
''')
    run = run_cli("render", tmp_path, "-o", tmp_path / "out", "--format", "svg")
    assert run.code == 0, run.err
    assert (tmp_path / "out" / "pathway-p.svg").is_file()
    assert "pathway-p prints with text under 8 pt even as a page of its own" in " ".join(run.out.split())


def test_every_character_of_the_bundled_charts_has_a_glyph_in_the_png_font():
    # PNG is drawn in Helvetica, which fontconfig gives as Liberation Sans here and on most
    # Linux systems, with no fallback to another font: a character it lacks prints as an empty
    # box (the finding's '⇒' did, in every box that concludes a finding).
    import shutil
    import subprocess
    if not shutil.which("fc-list"):
        pytest.skip("fontconfig's fc-list is not installed")

    def families(char: str) -> str:
        return subprocess.run(["fc-list", f":charset={ord(char):x}", "family"], capture_output=True,
                              text=True, check=True).stdout
    if "Liberation Sans" not in families("a"):
        pytest.skip("Liberation Sans, Helvetica's usual substitute, is not installed")
    used = {ch for path in GOLDEN.glob("*.dot") for ch in path.read_text(encoding="utf-8") if ord(ch) > 127}
    missing = sorted(ch for ch in used if "Liberation Sans" not in families(ch))
    assert not missing, [f"U+{ord(ch):04X} {ch}" for ch in missing]
