"""Semantic diff of two versions: declarations changed, and the exact regions of cases that change."""

from __future__ import annotations

import json
import shutil
import subprocess

import consilium
from conftest import DATA, run_cli
from consilium.engine.analysis.diff import diff

OLD, NEW = DATA / "diff" / "old", DATA / "diff" / "new"


def test_declarations_added_removed_changed():
    d = diff(consilium.load_kb(OLD), consilium.load_kb(NEW))
    assert [(c.kind, c.what, c.id) for c in d.changes] == [
        ("changed", "decide", "approach"), ("changed", "pathway", "p"), ("removed", "recommend", "egfr"),
        ("added", "recommend", "kras_test"), ("changed", "recommend", "staged")]


def test_the_exact_regions_that_change():
    old, new = consilium.load_kb(OLD), consilium.load_kb(NEW)
    d = diff(old, new)
    assert [(r.rule, r.change) for r in d.regions] == [
        ("egfr", "no longer fires"), ("kras_test", "now fires"),
        ("simultaneous", "no longer fires"), ("staged", "now fires")]
    by_rule = {r.rule: r for r in d.regions}
    assert by_rule["simultaneous"].case == {"segments": 3}  # the one value the threshold moved over
    assert by_rule["egfr"].case["kras"] == "wild_type" and by_rule["egfr"].case["segments"] >= 4
    for region in d.regions:  # every example shows the change when both versions evaluate it
        before = old.evaluate(region.case).recommendation_ids()
        after = new.evaluate(region.case).recommendation_ids()
        assert list(region.before) == before and list(region.after) == after
        assert (region.rule in after) == (region.change == "now fires")


def test_an_unchanged_version_has_no_region(tmp_path):
    shutil.copytree(OLD, tmp_path / "same")
    text = (tmp_path / "same" / "main.rules").read_text()
    (tmp_path / "same" / "main.rules").write_text("# moved down a line\n" + text)
    d = diff(consilium.load_kb(OLD), consilium.load_kb(tmp_path / "same"))
    assert d.changes == [] and d.regions == []


def test_diff_of_two_git_revisions(tmp_path, monkeypatch):
    repo = tmp_path / "repo"
    shutil.copytree(OLD, repo / "kb")
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@t", "-c", "commit.gpgsign=false"]
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    subprocess.run([*git, "-C", str(repo), "add", "."], check=True)
    subprocess.run([*git, "-C", str(repo), "commit", "-qm", "v1"], check=True)
    shutil.copy(NEW / "main.rules", repo / "kb" / "main.rules")
    subprocess.run([*git, "-C", str(repo), "commit", "-qam", "v2"], check=True)
    monkeypatch.chdir(repo)
    run = run_cli("diff", "HEAD~1", "HEAD", "--format", "json")
    assert run.code == 0, run.err
    report = json.loads(run.out)
    assert report["old"].startswith("HEAD~1 (") and report["new"].startswith("HEAD (")
    assert {(r["rule"], r["change"]) for r in report["regions"]} == {
        ("egfr", "no longer fires"), ("kras_test", "now fires"),
        ("simultaneous", "no longer fires"), ("staged", "now fires")}


def test_diff_text_and_chart(tmp_path):
    run = run_cli("diff", OLD, NEW, "--render", tmp_path)
    assert run.code == 0
    assert "'simultaneous' no longer fires: Simultaneous surgery" in run.out
    assert 'for example {"segments": 3}' in run.out
    dot = (tmp_path / "pathway-p.dot").read_text()
    [line] = [each for each in dot.splitlines() if each.strip().startswith("kras_test [")]
    assert 'color="#7B2CBF"' in line and "xlabel=changed" in line


def test_diff_of_something_that_is_no_version():
    run = run_cli("diff", "no/such/folder", NEW)
    assert run.code == 2 and "neither a path nor a git revision" in run.err
