"""What the feedback pages and the class report share: their templates (``templates/``, Jinja2
with HTML escaped), figures drawn with matplotlib as PNG bytes, and images embedded in a page so
that it opens from disk alone (no server, no network, no file beside it)."""

from __future__ import annotations

import base64
import io
from functools import cache

from ...questions import TITLES, label

#: A page's style, shared by every HTML page (inlined: the page is one file).
STYLE = """
body { font: 15px/1.45 system-ui, sans-serif; max-width: 60rem; margin: 2rem auto; padding: 0 1rem; color: #222; }
h1 { font-size: 1.5rem; } h2 { font-size: 1.2rem; margin-top: 2rem; border-bottom: 1px solid #ddd; }
table { border-collapse: collapse; } th, td { padding: .25rem .6rem; border-bottom: 1px solid #eee; text-align: left; }
td.number, th.number { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
pre { background: #f6f6f6; padding: .5rem .75rem; white-space: pre-wrap; font-size: 13px; }
.mark.passed { color: #1a7f37; } .mark.failed { color: #cf222e; font-weight: 600; } .note { color: #555; }
figure { margin: 1rem 0; } figure img { max-width: 100%; }
"""


@cache
def environment():
    """The templates' Jinja2 environment: HTML escaped in ``.html.j2`` templates, not in ``.md.j2``."""
    import jinja2

    env = jinja2.Environment(loader=jinja2.PackageLoader("mnist_checks.grading.course", "templates"),
                             autoescape=jinja2.select_autoescape(["html.j2"]), undefined=jinja2.StrictUndefined,
                             trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True)
    env.filters.update(points=points, label=label)
    env.globals.update(TITLES=TITLES, STYLE=STYLE)
    return env


def render(template: str, **context) -> str:
    """The template ``template`` (a file of ``templates/``) filled with ``context``."""
    return environment().get_template(template).render(**context)


def points(value) -> str:
    """``13.5``, ``15``, ``58.33``: points as the pages show them (two decimals at most); ``-``
    for none (an empty gradebook cell)."""
    return "-" if value in ("", None) else f"{round(float(value), 2):g}"


def png_bytes(fig) -> bytes:
    """A matplotlib figure as PNG bytes; the figure is closed."""
    import matplotlib.pyplot as plt

    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    plt.close(fig)
    return buffer.getvalue()


def data_uri(png: bytes) -> str:
    """A PNG as a ``data:`` URI, so that a page carries its images inside it."""
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def pyplot():
    """matplotlib's pyplot, drawing to files only (no display is ever opened)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt
