"""Time rendering the whole bundled knowledge base: every flowchart in DOT, SVG and PNG, and the report.

    python bench/bench_render.py [--repeat 3]

Prints the median of each part over the repeats and the total; the target is under 3 s.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import consilium  # noqa: E402
import consilium.render as render  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    kb = consilium.load_kb(Path(__file__).resolve().parent.parent / "kb")
    render.layout("digraph { a }", "svg")  # the first call finds the layout program
    parts: dict[str, list[float]] = {"charts (dot, svg, png)": [], "report (html, inline svg)": [], "total": []}
    for _ in range(args.repeat):
        with tempfile.TemporaryDirectory() as folder:
            t0 = time.perf_counter()
            files = render.render_charts(kb, folder, ("dot", "svg", "png"))
            t1 = time.perf_counter()
            render.write_report(kb, folder)
            t2 = time.perf_counter()
        parts["charts (dot, svg, png)"].append(t1 - t0)
        parts["report (html, inline svg)"].append(t2 - t1)
        parts["total"].append(t2 - t0)
    print(f"{len(render.chart_specs(kb))} charts, {len(files)} chart files, median of {args.repeat} runs")
    for name, values in parts.items():
        print(f"{name:<28} {statistics.median(values):6.2f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
