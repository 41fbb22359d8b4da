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
