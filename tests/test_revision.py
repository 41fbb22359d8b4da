"""The knowledge base's git revision: what git says, read again without running git.

Each test works on a small knowledge base in a fresh git repository and compares the revision
a result carries with what `git log -1` and `git status` say, through commits, edits, files
git does not track, and a branch switch; a state already seen is answered without a process.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time

import pytest

import consilium
from conftest import DATA
from consilium.engine.analysis import revision

SMALL = DATA / "render" / "main.rules"
ENV = {"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@x", "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@x",
       "PATH": "/usr/bin:/bin", "HOME": "/nonexistent"}


def git(folder, *args) -> str:
    return subprocess.run(["git", "-C", str(folder), *args], check=True, capture_output=True, text=True,
                          env=ENV).stdout.strip()


def write(path, text: str) -> None:
    """Write a file as an editor would, a while before git looks at it: a file written in the same
    second as git's index is "racily clean", and git rewrites its index until that second is past."""
    path.write_text(text)
    then = time.time() - 10
    os.utime(path, (then, then))


@pytest.fixture
def repo(tmp_path):
    folder = tmp_path / "kb"
    folder.mkdir()
    write(folder / "main.rules", SMALL.read_text())
    write(folder / "notes.txt", "not a rule file\n")
    git(folder, "init", "-q", "-b", "main")
    git(folder, "add", ".")
    git(folder, "commit", "-q", "-m", "v1")
    return folder


def identity(folder) -> str | None:
    return consilium.load_kb(folder).identity.revision  # a new KnowledgeBase: nothing kept in memory


def _refuse(*args, **kwargs):
    raise AssertionError(f"git was run: {args}")


def test_the_revision_is_the_last_commit_of_the_files_and_is_read_again_without_git(repo, monkeypatch):
    first = git(repo, "log", "-1", "--format=%h", "--abbrev=12")
    assert identity(repo) == first
    with monkeypatch.context() as m:
        m.setattr(subprocess, "run", _refuse)
        assert identity(repo) == first

    # committing something else does not change it (the last commit of the knowledge base's files)
    write(repo / "notes.txt", "changed\n")
    git(repo, "commit", "-q", "-am", "notes")
    assert identity(repo) == first


def test_an_edit_is_dirty_and_a_commit_is_seen(repo):
    text = (repo / "main.rules").read_text()
    write(repo / "main.rules", text + "\n# an edit\n")
    head = git(repo, "log", "-1", "--format=%h", "--abbrev=12")
    assert identity(repo) == head + "+dirty"
    assert identity(repo) == head + "+dirty"
    git(repo, "commit", "-q", "-am", "v2")
    second = git(repo, "log", "-1", "--format=%h", "--abbrev=12")
    assert second != head and identity(repo) == second
    write(repo / "main.rules", text)  # back to v1's text: differs from v2
    assert identity(repo) == second + "+dirty"


def test_a_staged_change_is_dirty(repo):
    write(repo / "main.rules", (repo / "main.rules").read_text() + "\n# staged\n")
    git(repo, "add", "main.rules")
    assert identity(repo).endswith("+dirty")
    git(repo, "reset", "-q", "--hard")
    assert not identity(repo).endswith("+dirty")


def test_a_branch_switch_is_seen(repo):
    first = identity(repo)
    git(repo, "checkout", "-q", "-b", "other")
    write(repo / "main.rules", (repo / "main.rules").read_text() + "\n# on the branch\n")
    git(repo, "commit", "-q", "-am", "other")
    other = identity(repo)
    assert other != first and other == git(repo, "log", "-1", "--format=%h", "--abbrev=12")
    git(repo, "checkout", "-q", "main")
    assert identity(repo) == first
    git(repo, "pack-refs", "--all")  # refs moved into packed-refs are still read
    assert identity(repo) == first


def test_an_untracked_rule_file_is_dirty_every_time(repo):
    text = (repo / "main.rules").read_text()
    write(repo / "extra.rules", "fact extra_fact : bool\n")
    write(repo / "main.rules", 'include "extra.rules"\n' + text)
    git(repo, "add", "main.rules")
    git(repo, "commit", "-q", "-m", "includes an untracked file")
    head = git(repo, "log", "-1", "--format=%h", "--abbrev=12")
    assert identity(repo) == head + "+dirty"
    write(repo / ".gitignore", "extra.rules\n")  # ignored now: git status no longer shows it
    assert identity(repo) == head


def test_outside_git_there_is_no_revision(tmp_path, monkeypatch):
    monkeypatch.setattr(subprocess, "run", _refuse)
    shutil.copy(SMALL, tmp_path / "main.rules")
    assert identity(tmp_path) is None
    assert revision.git_revision(tmp_path, [str(tmp_path / "main.rules")]) is None


def test_with_the_cache_off_git_answers_every_time(repo, monkeypatch):
    monkeypatch.setenv("CONSILIUM_CACHE", "off")
    first = identity(repo)
    calls = []
    real = subprocess.run
    monkeypatch.setattr(subprocess, "run", lambda *a, **k: calls.append(a) or real(*a, **k))
    assert identity(repo) == first and calls
