"""The benchmark's hand-written limits give the answers they claim to (bench/peers.py)."""

from __future__ import annotations

import sys

import consilium
from conftest import ROOT

sys.path.insert(0, str(ROOT / "bench"))

import compare  # noqa: E402
import peers  # noqa: E402


def test_hand_written_decide_gives_consilium_s_answer():
    """`hand_decide` is the values-only answer by hand: the same ids and needs, in the same order."""
    kb = consilium.load_kb(ROOT / "bench" / "decision")
    for case in compare.generate(5000, 11):
        assert peers.hand_decide(case) == tuple(kb.decide(case)), case
        assert peers.hand_written_same_answer(case) == peers.reference(case), case


def test_hand_written_cohort_pipelines_give_consilium_s_recommendations(tmp_path):
    """The hand-written DuckDB SQL (and polars, where installed) of bench/bench_cohort.py decide
    as the knowledge base does: what the engine's speed is compared with is the same answer."""
    import subprocess
    import pyarrow.parquet as pq
    import bench_cohort
    from conftest import run_cli
    path = tmp_path / "decision.jsonl"
    import json
    with path.open("w") as handle:
        for case in compare.generate(3000, 5):
            handle.write(json.dumps(case) + "\n")
    assert run_cli("eval", ROOT / "bench" / "decision", "--cohort", path, "--engine", "duckdb",
                   "-o", tmp_path / "engine.parquet").code == 0
    engine = pq.read_table(tmp_path / "engine.parquet").to_pylist()
    scripts = [bench_cohort.HAND_DUCKDB]
    try:
        import polars  # noqa: F401
        scripts.append(bench_cohort.HAND_POLARS)
    except ImportError:
        pass
    for script in scripts:
        subprocess.run(bench_cohort.hand(script, path, tmp_path / "hand.parquet"), check=True)
        by_hand = pq.read_table(tmp_path / "hand.parquet").to_pylist()
        assert by_hand == engine
