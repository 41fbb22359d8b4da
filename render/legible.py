"""Legible in print: the size a chart is printed at, and the size of its smallest text there.

Charts are printed on A4 landscape sheets. The report's print stylesheet gives a chart a box
of `PRINT_BOX_MM`, leaving room for its heading; a chart file written by `consilium render`
is drawn to fit `SHEET_MM`, the sheet less its margins, at its own size (see `fit`). A chart
is legible when its smallest text measures at least `MIN_TEXT_PT` there. Takes a laid-out
SVG; returns numbers. Pure: laying out is render/output.py's job.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

PRINT_BOX_MM = (265, 150)   # width, height: an A4 landscape sheet less its margins and a heading
SHEET_MM = (277, 190)       # an A4 landscape sheet (297 x 210 mm) less margins of 10 mm
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
        """Whether it prints at its own size on one A4 landscape sheet with text of 8 pt or more."""
        return (self.smallest_text >= MIN_TEXT_PT and self.width <= SHEET_MM[0] * _MM + 0.5
                and self.height <= SHEET_MM[1] * _MM + 0.5)

    def words(self) -> str:
        return (f"{self.width / _MM:.0f} x {self.height / _MM:.0f} mm, smallest text "
                f"{self.smallest_text:.1f} pt")


def fit() -> str:
    """Graphviz's `size` for a chart file: drawn no larger than the sheet (only ever shrunk),
    so that it prints at its own size on an A4 landscape sheet."""
    # inches, a point short of the sheet: Graphviz rounds the drawing's size up to whole points
    width, height = (math.floor((mm * _MM - 1) / 72 * 100) / 100 for mm in SHEET_MM)
    return f"{width:.2f},{height:.2f}"


def printed(svg: bytes) -> Printed:
    """The chart of a Graphviz SVG printed at its own size."""
    size = _SIZE.search(svg)
    if size is None:
        raise ValueError("not an SVG written by Graphviz: no size in points and view box")
    width, height, view_w, _ = (float(x) for x in size.groups())
    scale = _SCALE.search(svg)
    # text is drawn in the view box's units, under the graph's own transform (Graphviz's `size`)
    per_unit = (width / view_w if view_w else 1.0) * (float(scale[1]) if scale else 1.0)
    fonts = [float(x) for x in _FONT.findall(svg)]
    smallest = min(fonts) * per_unit if fonts else MIN_TEXT_PT
    return Printed(width, height, smallest)
