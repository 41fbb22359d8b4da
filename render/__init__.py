"""Rendering of decision graphs to DOT, SVG, PNG and the HTML review report.

Nothing is rendered yet: the flowcharts and the auditors' report are the rendering issue's
work. The package exists so that `import render` is stable from the first release.
"""
