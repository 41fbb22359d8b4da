#!/usr/bin/env python3
"""The two commands of the README's quick start, on a machine with nothing but Python 3.11+.

    python3 dev.py demo    evaluate the bundled example case, show its findings with their reasons,
                           recommendations, alternatives and conditional options, why it did not get
                           the other rules, and draw its path on the flowchart (out/demo/) and in the
                           review report
    python3 dev.py test    run the whole test suite (pytest, which also runs `consilium test kb`)

Each creates `.venv/` beside this file on first use and installs the project into it
(`pip install -e '.[test,dev]'`: the test tools, ruff and mypy), again only when pyproject.toml
changes. `demo CASE` takes another case file; extra arguments of `test` go to pytest.
"""

from __future__ import annotations

import hashlib
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if sys.platform == "win32" else "bin")
PYTHON = BIN / ("python.exe" if sys.platform == "win32" else "python")
STAMP = VENV / ".consilium-installed"
DEMO_CASE = "examples/liver_five_segments_bleeding.yaml"  # relative to ROOT, where commands run


def ensure_environment() -> None:
    if sys.version_info < (3, 11):
        sys.exit(f"Consilium needs Python 3.11 or newer; this is {sys.version.split()[0]}")
    wanted = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()
    if STAMP.exists() and STAMP.read_text() == wanted and PYTHON.exists():
        return
    if not PYTHON.exists():
        print(f"creating {VENV.relative_to(ROOT)}/ ...", flush=True)
        venv.create(VENV, with_pip=True)
    print("installing consilium and its test tools into .venv/ ...", flush=True)
    subprocess.run([str(PYTHON), "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
                    "-e", f"{ROOT}[test,dev]"], check=True)
    STAMP.write_text(wanted)


def case_path(given: str) -> str:
    """The demo's case as the commands find it, which run in ROOT: a relative path given from
    another folder is that folder's file, made absolute; from ROOT it is shown as given."""
    path = Path(given)
    if not path.is_absolute() and Path.cwd().resolve() != ROOT and path.exists():
        return str(path.resolve())
    return given


def shown(path: Path) -> str:
    """A path of the project as the user can open it from where they ran the demo."""
    try:
        return str(path.relative_to(Path.cwd().resolve()))
    except ValueError:  # run from outside the project: the whole path
        return str(path)


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in ("demo", "test"):
        print(__doc__.strip())
        return 2
    ensure_environment()
    if argv[0] == "demo":
        case = case_path(argv[1]) if len(argv) > 1 else DEMO_CASE
        consilium = [str(PYTHON), "-m", "consilium"]
        code = subprocess.run([*consilium, "eval", "kb", case], cwd=ROOT).returncode
        if code != 0:
            return code
        # ...why the case did not get the other rules, where its path turned away...
        print("\n$ consilium explain kb " + case, flush=True)
        code = subprocess.run([*consilium, "explain", "kb", case], cwd=ROOT).returncode
        if code != 0:
            return code
        # ...and the flowchart of the case's path, and the auditors' report, for a browser.
        for command in (["render", "kb", "--case", case, "--chart", "pathway-hepatic_metastases", "--paged",
                         "--format", "svg,png", "-o", "out/demo"],
                        ["report", "kb", "--case", case, "-o", "out/demo/report"]):
            code = subprocess.run([*consilium, *command], cwd=ROOT, stdout=subprocess.DEVNULL).returncode
            if code != 0:
                return code
        out = shown(ROOT / "out" / "demo")
        print("\nFlowchart of this case's path, a page per section: "
              f"{out}/pathway-hepatic_metastases-*.svg (and .png)"
              f"\nThe auditors' review report:   {out}/report/index.html")
        return 0
    return subprocess.run([str(PYTHON), "-m", "pytest", *argv[1:]], cwd=ROOT).returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
