"""The web page's HTML templates and static files: one Jinja environment, created on first use.

Templates are ``templates/*.html`` (autoescaped: any value not marked safe is HTML-escaped; each
template is a set of macros, one per block of the page), the stylesheet and page scripts are
``static/*``. This module only loads and renders them; what goes into each block is the views'
(``answers``, ``reader``, ``timeline``, ``feeds``).
"""

from __future__ import annotations

import functools
import html
import re
from pathlib import Path

from markupsafe import Markup

HERE = Path(__file__).parent


def text_html(text) -> Markup:
    """``text`` HTML-escaped with its line breaks as ``<br>``, never a blank line (which would end the
    HTML block in the chatbot's Markdown renderer). The ``text`` filter of the templates."""
    escaped = html.escape(str(text or ""), quote=True)
    escaped = re.sub(r"\n[ \t]*\n\s*", "<br><br>", escaped)
    return Markup(escaped.replace("\n", "<br>"))


@functools.cache
def environment():
    """The one Jinja environment of the web app (jinja2 comes with Gradio; imported on first use)."""
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(HERE / "templates"),
        autoescape=jinja2.select_autoescape(["html"]),
        trim_blocks=True,
        lstrip_blocks=True,
        undefined=jinja2.StrictUndefined,
    )
    env.filters["text"] = text_html
    return env


def render(template: str, macro: str, /, **context) -> Markup:
    """The HTML of the macro ``macro`` of ``template`` called with ``context``."""
    return Markup(getattr(environment().get_template(template).module, macro)(**context))


@functools.cache
def static(name: str) -> str:
    """The text of ``static/<name>`` (the stylesheet, a page script)."""
    return (HERE / "static" / name).read_text(encoding="utf-8")
