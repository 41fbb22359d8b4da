"""Legible in print: the size a chart is printed at, and the size of its smallest text there.

Charts are printed on an A4 landscape sheet, in a box of `PRINT_BOX_MM` (the report's print
stylesheet gives a chart that box, leaving room for its heading; a chart file written by
`consilium render` is drawn to fit it at its own size, see `fit`). A chart is legible when
its smallest text measures at least `MIN_TEXT_PT` there. Takes a laid-out SVG; returns
numbers. Pure: laying out is render/output.py's job.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

PRINT_BOX_MM = (265, 150)   # width, height: an A4 landscape sheet less its margins and a heading
MIN_TEXT_PT = 8.0           # the smallest text that reads in print
_MM = 72 / 25.4             # points per millimetre

_SIZE = re.compile(rb'<svg width="([\d.]+)pt" height="([\d.]+)pt"\s+viewBox="[\d.-]+ [\d.-]+ ([\d.]+) ([\d.]+)"')
_SCALE = re.compile(rb'<g id="graph0" class="graph" transform="scale\(([\d.]+)')
_FONT = re.compile(rb'font-size="([\d.]+)"')


@dataclass(frozen=True)
class Printed:
    """A chart as printed: its size and its smallest text, in points, on the sheet."""

    width: float
    height: float
    smallest_text: float

    @property
    def legible(self) -> bool:
        box_w, box_h = print_box_pt()
        return self.smallest_text >= MIN_TEXT_PT and self.width <= box_w + 0.5 and self.height <= box_h + 0.5

    def words(self) -> str:
        return (f"{self.width / _MM:.0f} x {self.height / _MM:.0f} mm, smallest text "
                f"{self.smallest_text:.1f} pt")


def print_box_pt() -> tuple[float, float]:
    return PRINT_BOX_MM[0] * _MM, PRINT_BOX_MM[1] * _MM


def fit() -> str:
    """Graphviz's `size` for a chart file: drawn no larger than the print box (only ever
    shrunk), so that it prints at its own size on an A4 landscape sheet."""
    width, height = (math.floor(mm / 25.4 * 100) / 100 for mm in PRINT_BOX_MM)  # inches, never over the box
    return f"{width:.2f},{height:.2f}"


def printed(svg: bytes, shrink_to_box: bool = False) -> Printed:
    """The chart of a Graphviz SVG printed at its own size, or, with `shrink_to_box`, shrunk
    to fit the print box as the report's stylesheet does (never enlarged)."""
    size = _SIZE.search(svg)
    if size is None:
        raise ValueError("not an SVG written by Graphviz: no size in points and view box")
    width, height, view_w, _ = (float(x) for x in size.groups())
    scale = _SCALE.search(svg)
    # text is drawn in the view box's units, under the graph's own transform (Graphviz's `size`)
    per_unit = (width / view_w if view_w else 1.0) * (float(scale[1]) if scale else 1.0)
    fonts = [float(x) for x in _FONT.findall(svg)]
    smallest = min(fonts) * per_unit if fonts else MIN_TEXT_PT
    if shrink_to_box:
        box_w, box_h = print_box_pt()
        shrink = min(1.0, box_w / width, box_h / height)
        width, height, smallest = width * shrink, height * shrink, smallest * shrink
    return Printed(width, height, smallest)
