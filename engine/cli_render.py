"""`consilium render`: write the flowcharts, and say what became of those too large to print.

Takes the parsed arguments, the loaded knowledge base and the case's result; writes the
charts of `render.chart_set` (every chart legible in print by default, a large one as its
pages; `--paged` the report's pages; `--whole` one image per chart) and returns the exit
code. It does not draw or measure (render/ does).
"""

from __future__ import annotations

import sys
import textwrap

from .lang.diagnostics import ConsiliumError

EXIT_OK, EXIT_INPUT = 0, 2


def render_command(args, kb, result, formats: list[str]) -> int:
    from .. import render
    mode = "whole" if args.whole else "paged" if args.paged else "print"
    # every name a chart may go by: whole charts and pages (a whole chart's name selects its pages)
    known = {s.name for s in render.chart_specs(kb)} | {s.name for s in render.chart_specs(kb, paged=True)}
    missing = [c for c in args.chart or () if c not in known]
    if missing:
        print(f"consilium render: no chart {', '.join(missing)}; `consilium render --list` lists them",
              file=sys.stderr)
        return EXIT_INPUT
    try:
        charts = render.chart_set(kb, result, args.chart, mode=mode)
        refused = [name for name in charts.left_out if name in (args.chart or ())]
        if refused:
            print(f"consilium render: {', '.join(refused)} {'is' if len(refused) == 1 else 'are'} too large to "
                  "print with text of 8 pt on an A4 landscape sheet; `--whole` draws "
                  f"{'it' if len(refused) == 1 else 'them'} as one image for the screen", file=sys.stderr)
            return EXIT_INPUT
        if args.list:
            print("\n".join(charts.names))
            _notes(charts, sys.stderr)
            return EXIT_OK
        paths = render.write_chart_set(kb, charts, args.output, formats)
    except ConsiliumError as error:  # no layout program, an unwritable folder
        print(f"consilium render: {error}", file=sys.stderr)
        return EXIT_INPUT
    print(f"wrote {len(paths)} file{'s' if len(paths) != 1 else ''} to {args.output}")
    _notes(charts, sys.stdout)
    return EXIT_OK


def _notes(charts, stream) -> None:
    """What a reader of the folder would otherwise wonder about: where a chart went."""
    lines = []
    if charts.cut:
        lines.append("too large to print whole, drawn as linked pages: "
                     + ", ".join(f"{name} ({len(pages)} page{'s' if len(pages) != 1 else ''})"
                                 for name, pages in charts.cut))
    if charts.left_out:
        lines.append(f"too large to print with text of 8 pt, not drawn: {', '.join(charts.left_out)} (`--whole` "
                     "draws every chart as one image, for the screen; the report shows what each source says, by "
                     "site, in tables)")
    lines += [f"{name} prints with text under 8 pt even as a page of its own ({printed.words()}): a label too "
              "long for one sheet?" for name, printed in charts.illegible()]
    for line in lines:
        print(textwrap.fill(line, 100, initial_indent="  ", subsequent_indent="    ", break_on_hyphens=False),
              file=stream)
