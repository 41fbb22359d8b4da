"""Sign-off per rule: the review record, its states, the release gate, and bad records.

Each test works on a copy of a small knowledge base in a temporary folder (a git
repository where the test needs revisions), and drives `consilium review` and
`consilium check --require-review` as a user would.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
import subprocess
import threading

import pytest

import consilium
from conftest import DATA, ROOT, run_cli
from consilium.engine.analysis.identity import rule_digest, rules
from consilium.engine.analysis.review import changes_since_review, sign, status
from consilium.engine.analysis.review_record import ReviewRecordError, read_record

SMALL = DATA / "render" / "main.rules"


@pytest.fixture
def folder(tmp_path):
    shutil.copy(SMALL, tmp_path / "main.rules")
    return tmp_path


def git(folder, *args):
    subprocess.run(["git", "-C", str(folder), *args], check=True, capture_output=True,
                   env={"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@x", "GIT_COMMITTER_NAME": "t",
                        "GIT_COMMITTER_EMAIL": "t@x", "PATH": "/usr/bin:/bin"})


def states(folder) -> dict[str, str]:
    run = run_cli("review", "status", folder, "--format", "json")
    assert run.code == 0, run.err
    return {r["rule"]: r["state"] for r in json.loads(run.out)["rules"]}


def test_every_rule_starts_unreviewed_and_the_gate_refuses(folder):
    found = states(folder)
    assert set(found.values()) == {"unreviewed"}
    assert {"how_many", "simultaneous", "staged", "egfr", "liver_first_check", "sequence"} <= set(found)
    gate = run_cli("check", folder, "--require-review")
    assert gate.code == 1
    assert "main.rules:16:15: review: recommendation 'simultaneous' is never reviewed" in gate.err
    assert run_cli("check", folder).code == 0  # without the flag, reviews do not matter


def test_sign_records_states_and_the_gate_passes_when_all_are_approved(folder):
    everything = list(states(folder))
    run = run_cli("review", "sign", *everything, "--kb", folder, "--by", "A. Auditor", "--verdict", "approved")
    assert run.code == 0, run.err
    assert f"recorded {len(everything)} reviews" in run.out
    assert set(states(folder).values()) == {"approved"}
    assert run_cli("check", folder, "--require-review").code == 0
    record = (folder / "REVIEWS.toml").read_text()
    assert record.count("\n[[review]]\n") == len(everything)
    assert 'rule = "how_many"\nverdict = "approved"\nby = "A. Auditor"\ndate = ' in record

    # questioned does not block a release; rejected does
    run = run_cli("review", "sign", "egfr", "--kb", folder, "--by", "B", "--verdict", "questioned",
                  "--comment", "Is the \"wild type\" wording in the source?")
    assert run.code == 0 and states(folder)["egfr"] == "questioned"
    assert run_cli("check", folder, "--require-review").code == 0
    run_cli("review", "sign", "egfr", "--kb", folder, "--by", "B", "--verdict", "rejected", "--comment", "No.")
    gate = run_cli("check", folder, "--require-review")
    assert gate.code == 1 and "recommendation 'egfr' is rejected" in gate.err
    text = run_cli("review", "status", folder).out
    assert "Rejected (1)\n  Anti-EGFR  [recommendation 'egfr', " in text
    assert "rejected by B on " in text and "“No.”" in text
    assert text.rstrip().endswith(f"record a review: consilium review sign RULE... --kb {folder} --by NAME "
                                  "--verdict approved|questioned|rejected [--comment TEXT]")  # what to do next
    # every earlier review is still there, in order
    egfr = [r for r in read_record(folder / "REVIEWS.toml").reviews if r.rule == "egfr"]
    assert [r.verdict for r in egfr] == ["approved", "questioned", "rejected"]
    assert egfr[1].comment == 'Is the "wild type" wording in the source?'


def test_a_changed_rule_expires_its_review_but_layout_does_not(folder):
    run_cli("review", "sign", "simultaneous", "staged", "--kb", folder, "--by", "A", "--verdict", "approved")
    text = (folder / "main.rules").read_text()
    # re-indenting a clause and adding a comment changes no meaning
    (folder / "main.rules").write_text(text.replace('        refs 1\n', '        refs 1   # the first reference\n'))
    assert states(folder)["simultaneous"] == "approved"
    (folder / "main.rules").write_text(text.replace('"Simultaneous surgery"', '"Simultaneous surgery, always"'))
    found = states(folder)
    assert found["simultaneous"] == "changed" and found["staged"] == "approved"
    assert run_cli("check", folder, "--require-review").code == 1


def test_a_review_of_a_rule_that_no_longer_exists_is_reported(folder):
    run_cli("review", "sign", "egfr", "--kb", folder, "--by", "A", "--verdict", "approved")
    text = (folder / "main.rules").read_text()
    (folder / "main.rules").write_text(text.replace("egfr", "anti_egfr_wild_type"))
    run = run_cli("review", "status", folder)
    assert run.code == 0
    assert ("REVIEWS.toml:5:1: warning: the review of 'egfr' (approved, A, " in run.out
            and "names a rule this knowledge base no longer has [review-unknown-rule]" in run.out)
    payload = json.loads(run_cli("review", "status", folder, "--format", "json").out)
    assert [o["rule"] for o in payload["orphans"]] == ["egfr"]
    assert "egfr" in (folder / "REVIEWS.toml").read_text()  # kept, not dropped


def test_sign_refuses_an_unknown_rule_and_records_nothing(folder):
    run = run_cli("review", "sign", "simultaneous", "simultanous", "--kb", folder, "--by", "A", "--verdict",
                  "approved")
    assert run.code == 2
    assert "error: no rule 'simultanous' in this knowledge base [review-unknown-rule]" in run.err
    assert "hint: did you mean 'simultaneous'?" in run.err
    assert not (folder / "REVIEWS.toml").exists()
    run = run_cli("review", "sign", "egfr", "--kb", folder, "--by", "A", "--verdict", "rejected")
    assert run.code == 2 and "a rule rejected needs a comment saying why" in run.err
    run = run_cli("review", "sign", "egfr", "--kb", folder, "--by", "  ", "--verdict", "approved")
    assert run.code == 2 and "--by is empty" in run.err


BAD_RECORDS = [
    ('rule = folfox', 6, 8, "review-syntax", "the review record is not valid TOML: invalid value"),
    ('verdict = "fine"', 7, 11, "review-invalid", "unknown verdict 'fine'"),
    ('date = "29.11.2026"', 9, 8, "review-invalid", "'date' must be a date such as 2026-11-29"),
    ('reviewer = "A"', 8, 12, "review-invalid", "a review has no field 'reviewer'"),
    ('digest = "abc"', 10, 10, "review-invalid", "'digest' must be 'sha256:' and 64 hexadecimal digits"),
    ('[[review]]\nrule = "egfr"', 12, 1, "review-invalid", "this review has no 'verdict'"),
]


@pytest.mark.parametrize("line, row, column, code, message", BAD_RECORDS,
                         ids=[b[3] + "-" + b[0].split()[0].strip("[]") for b in BAD_RECORDS])
def test_a_hand_edited_record_gets_diagnostics_with_line_and_column(folder, line, row, column, code, message):
    run_cli("review", "sign", "how_many", "--kb", folder, "--by", "A", "--verdict", "approved")
    path = folder / "REVIEWS.toml"
    good = path.read_text()
    lines = good.splitlines()
    key = line.split()[0]
    if key.startswith("[["):  # a second, incomplete review appended
        broken = good + "\n" + line + "\n"
    else:
        index = next((i for i, x in enumerate(lines) if x.startswith(key + " ")), 7)
        lines[index] = line
        broken = "\n".join(lines) + "\n"
    path.write_text(broken)
    run = run_cli("review", "status", folder)
    assert run.code == 2
    assert f"REVIEWS.toml:{row}:{column}: error: {message}" in run.err and f"[{code}]" in run.err
    # a record that does not read is never overwritten by a new review
    assert run_cli("review", "sign", "egfr", "--kb", folder, "--by", "A", "--verdict", "approved").code == 2
    assert path.read_text() == broken
    assert run_cli("check", folder, "--require-review").code == 1


def test_concurrent_signers_both_land(folder):
    kb = consilium.load_kb(folder)
    ids = list(rules(kb.checked))
    threads = [threading.Thread(target=sign, args=(kb, [rule], f"R{i}", "approved")) for i, rule in enumerate(ids)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(r.rule for r in read_record(folder / "REVIEWS.toml").reviews) == sorted(ids)


def test_the_digest_covers_meaning_not_position():
    kb = consilium.load_kb(SMALL)
    found = rules(kb.checked)
    assert all(r.digest.startswith("sha256:") and len(r.digest) == 71 for r in found.values())
    assert len({r.digest for r in found.values()}) == len(found)
    assert found["egfr"].digest == rule_digest(found["egfr"].node)


def test_changes_since_review_shows_the_semantic_diff_from_the_reviewed_revision(folder):
    git(folder, "init", "-q")
    git(folder, "add", ".")
    git(folder, "commit", "-q", "-m", "v1")
    kb = consilium.load_kb(folder)
    [review] = sign(kb, ["simultaneous"], "A", "approved", today=dt.date(2026, 1, 2))
    assert review.revision and not review.revision.endswith("+dirty")
    text = (folder / "main.rules").read_text()
    (folder / "main.rules").write_text(text.replace("when segments <= 3 -> simultaneous",
                                                    "when segments <= 2 -> simultaneous"))
    kb = consilium.load_kb(folder)
    current = status(kb)
    assert current.of("how_many").state == "unreviewed" and current.of("simultaneous").state == "approved"
    sign(kb, ["how_many"], "A", "approved")  # signed on uncommitted text: recorded "+dirty"
    (folder / "main.rules").write_text(text.replace('"Simultaneous surgery"', '"Simultaneous surgery (2)"')
                                       .replace("segments <= 3", "segments <= 1"))
    kb = consilium.load_kb(folder)
    changes = {c.state.rule.id: c for c in changes_since_review(kb, status(kb))}
    assert set(changes) == {"simultaneous", "how_many"}
    simultaneous = changes["simultaneous"]
    assert simultaneous.reviewed_at == review.revision
    assert [(c.kind, c.id) for c in simultaneous.changes] == [("changed", "simultaneous")]
    assert [r.change for r in simultaneous.regions] == ["no longer fires"]
    assert simultaneous.text[:2] == ('- recommend simultaneous "Simultaneous surgery"',
                                     '+ recommend simultaneous "Simultaneous surgery (2)"')
    assert "      action simultaneous_resection" in simultaneous.text  # unchanged lines kept, marked "  "
    assert simultaneous.regions[0].case == {"segments": 2} or simultaneous.regions[0].case["segments"] in (2, 3)
    assert "uncommitted" in changes["how_many"].note


def test_a_broken_record_is_an_error_of_the_api_too(folder):
    (folder / "REVIEWS.toml").write_text("[[review]\n")
    with pytest.raises(ReviewRecordError) as caught:
        status(consilium.load_kb(folder))
    assert caught.value.diagnostics[0].span.line == 1


def test_the_report_shows_each_rules_state_and_what_changed_since_review(folder, tmp_path):
    import consilium.render as render
    git(folder, "init", "-q")
    git(folder, "add", ".")
    git(folder, "commit", "-q", "-m", "v1")
    kb = consilium.load_kb(folder)
    sign(kb, ["simultaneous", "how_many"], "Dr A", "approved")
    sign(kb, ["sequence"], "Dr B", "questioned", "Is day 11 right?")
    text = (folder / "main.rules").read_text()
    (folder / "main.rules").write_text(text.replace("segments <= 3", "segments <= 2"))
    kb = consilium.load_kb(folder)
    page = render.write_report(kb, tmp_path / "out").read_text()
    review = page.split('<section id="review">', 1)[1].split("</section>", 1)[0]
    assert "2 approved" not in review and "1 approved" in review and "1 questioned" in review
    assert "1 changed since its review" in review
    assert "Is day 11 right?" in review
    changed = review.split("Changed since last review", 1)[1]
    assert "How many segments?" in changed and "approved by Dr A on " in changed
    assert "changed decide <code>how_many</code>" in changed
    assert "Simultaneous surgery</a> no longer fires for a case such as" in changed
    # what the rule says then and now, line by line, as written in the rule file
    said = changed.split('<pre class="rule-diff">', 1)[1].split("</pre>", 1)[0]
    assert '<span class="then">-     when segments &lt;= 3 -&gt; simultaneous</span>' in said
    assert '<span class="now">+     when segments &lt;= 2 -&gt; simultaneous</span>' in said
    assert '<span class="both">  decide how_many ' in said
    row = page.split('<tr id="rule-sequence"', 1)[1].split("</tr>", 1)[0]
    assert 'class="review questioned">questioned' in row and "Dr B" in row
    row = page.split('<tr id="rule-egfr"', 1)[1].split("</tr>", 1)[0]
    assert 'class="review unreviewed">never reviewed' in row


def test_the_report_carries_what_it_reviews(folder, tmp_path, monkeypatch):
    import consilium.render as render
    kb = consilium.load_kb(folder)
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1767225600")
    run = run_cli("report", folder, "-o", tmp_path / "a")
    page = (tmp_path / "a" / "index.html").read_text()
    assert "<title>A small knowledge base for the rendering tests: every kind of node, a plan, a safety rule, " \
           "and labels full of characters that DOT, SVG and HTML treat as markup — Consilium review</title>" \
           not in page  # the name is the first line of the root file, not its whole comment
    assert f"<h1>{kb.identity.name}</h1>" in page and str(folder) not in page.split("<h1>")[1].split("</h1>")[0]
    assert kb.identity.digest in page and f"Consilium</dt><dd>{consilium.__version__}" in page
    assert '<time datetime="2026-01-01T00:00:00Z">' in page
    assert run.code == 0
    run_cli("report", folder, "-o", tmp_path / "b")
    assert (tmp_path / "b" / "index.html").read_text() == page  # reproducible with SOURCE_DATE_EPOCH
    broken = folder / "REVIEWS.toml"
    broken.write_text("[[review]\n")
    page = render.write_report(kb, tmp_path / "c").read_text()
    assert "The review record could not be read" in page and "REVIEWS.toml:1:" in page


def test_the_gate_in_json(folder):
    run = run_cli("check", folder, "--require-review", "--format", "json")
    payload = json.loads(run.out)
    assert run.code == 1 and payload["ok"] is False
    assert payload["review"]["counts"]["unreviewed"] == len(payload["review"]["blocking"]) > 0
    (folder / "REVIEWS.toml").write_text('[[review]]\nrule = "egfr"\n')
    payload = json.loads(run_cli("check", folder, "--require-review", "--format", "json").out)
    assert payload["ok"] is False and payload["review"]["diagnostics"][0]["code"] == "review-invalid"
    assert payload["review"]["diagnostics"][0]["span"]["line"] == 1


def test_the_readme_walkthrough_records_a_review_and_the_report_shows_before_and_after(tmp_path, monkeypatch):
    import re
    import shlex
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("### Sign-off per rule", 1)[1].split("\n### ", 1)[0]
    block = section.split("```sh\n", 1)[1].split("```", 1)[0].replace("\\\n", " ")
    commands = [shlex.split(line.split("  #", 1)[0]) for line in block.splitlines() if line.strip()]
    assert [c[:2] for c in commands] == [["consilium", "review"], ["consilium", "report"], ["git", "commit"],
                                         ["consilium", "review"], ["git", "add"]]
    shutil.copytree(consilium.bundled_kb_path(), tmp_path / "kb", ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.chdir(tmp_path)
    git(tmp_path, "init", "-q")
    git(tmp_path, "add", ".")
    git(tmp_path, "commit", "-q", "-m", "the bundled knowledge base")
    assert not (tmp_path / "kb" / "REVIEWS.toml").exists()  # the bundled knowledge base has no sign-off

    def row(page: str, rule: str) -> str:
        return page.split(f'<tr id="rule-{rule}"', 1)[1].split("</tr>", 1)[0]

    printed = []
    for command in commands:
        if command[0] == "git":
            if command[1] == "add":  # `git add X && git commit -m M`
                git(tmp_path, *command[1:3])
                git(tmp_path, "commit", "-q", "-m", command[-1])
            else:
                git(tmp_path, "commit", "-q", "--allow-empty", *command[2:])
            continue
        run = run_cli(*command[1:])
        assert run.code == 0, run.err
        printed.append(run.out)
    before = (tmp_path / "out" / "report" / "index.html").read_text(encoding="utf-8")
    assert "No review is recorded yet (<code>kb/REVIEWS.toml</code> does not exist" in before
    assert '<li class="review approved">0 approved</li>' in before
    assert "No reviewed rule has changed since its review." in before
    assert 'class="review unreviewed">never reviewed' in row(before, "staged_hepatectomy")
    said = re.findall(r"`([^`]+)`", section.split("`review sign` prints", 1)[1].split("appends", 1)[0])
    assert said[0].removesuffix("2026-11-29") in printed[2] and said[1] in printed[2]
    record = (tmp_path / "kb" / "REVIEWS.toml").read_text(encoding="utf-8")
    assert 'rule = "staged_hepatectomy"' in record and 'comment = "Matches the summary\'s wording."' in record
    assert re.search(r'revision = "[0-9a-f]{12}"', record)  # committed first: no "+dirty"

    after = render_report(tmp_path)
    assert "The record: <code>kb/REVIEWS.toml</code> (1 review)." in after
    assert '<li class="review approved">1 approved</li>' in after
    assert "approved by A. Auditor, " in row(after, "staged_hepatectomy")
    assert "Matches the summary&#x27;s wording." in row(after, "staged_hepatectomy") or \
        "Matches the summary's wording." in row(after, "staged_hepatectomy")

    rules_file = tmp_path / "kb" / "liver.rules"
    rules_file.write_text(rules_file.read_text(encoding="utf-8").replace(
        'quote "Hepatectomy 3 months after', 'quote "Hepatectomy 4 months after'), encoding="utf-8")
    changed = render_report(tmp_path)
    assert '<li class="review changed">1 changed since its review</li>' in changed
    assert 'class="review changed">changed since its review' in row(changed, "staged_hepatectomy")
    since = changed.split("Changed since last review", 1)[1].split("</section>", 1)[0]
    assert "approved by A. Auditor on " in since and " at revision " in since
    assert '<span class="then">-     quote &quot;Hepatectomy 3 months after' in since
    assert '<span class="now">+     quote &quot;Hepatectomy 4 months after' in since
    assert "No case is decided differently" in since


def render_report(folder) -> str:
    run = run_cli("report", "kb", "-o", folder / "again", "--no-timestamp")  # as the README: from the folder
    assert run.code == 0, run.err
    return (folder / "again" / "index.html").read_text(encoding="utf-8")
