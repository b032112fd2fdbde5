"""The step-through page as one self-contained HTML file: CSS and JS inlined, the trace embedded.

The page's ES modules are joined into one inline module (each module's imports removed, its
``export`` keywords dropped), in dependency order. No server is needed; editing and training are
hidden with a note, as they need ``gradtrace serve``; so does practice (its grader is Python, and
the page never judges an answer itself): the Practice switch there says so.
"""

from __future__ import annotations

import json
import re
from importlib import resources
from typing import Any

from gradtrace import notation

# Dependencies before dependants; app.js last (it starts the page).
MODULES = ("mathml.js", "api.js", "diagram.js", "editor.js", "panels.js", "share.js", "train.js",
           "practice.js", "app.js")
_IMPORT = re.compile(r"^import [^;]*? from \"\./[a-z]+\.js\";\n", re.MULTILINE)
_EXPORT = re.compile(r"^export ", re.MULTILINE)


def _static(name: str) -> str:
    return resources.files("gradtrace.web").joinpath("static", name).read_text(encoding="utf-8")


def bundled_script() -> str:
    """The page's modules as one module's source."""
    parts = []
    for name in MODULES:
        source = _EXPORT.sub("", _IMPORT.sub("", _static(name)))
        parts.append(f"// ---- {name}\n{source}")
    return "\n".join(parts)


def _json_for_script(data: Any) -> str:
    """JSON safe inside <script>: no "</" can close the element."""
    return json.dumps(data, allow_nan=False).replace("</", "<\\/")


def render_interactive(trace_dict: dict[str, Any]) -> str:
    """One offline HTML file that steps through ``trace_dict`` (a gradtrace.trace/1 object)."""
    embedded = {
        "trace": trace_dict,
        "notation": {kind: {"text": n.text, "latex": n.latex, "words": n.words}
                     for kind, n in notation.SYMBOLS.items()},
    }
    html = _static("index.html")
    html = html.replace('<link rel="stylesheet" href="/static/style.css">',
                        f"<style>\n{_static('style.css')}</style>")
    script = bundled_script().replace("</script", "<\\/script")
    html = html.replace(
        '<script type="module" src="/static/app.js"></script>',
        f'<script type="application/json" id="gt-embedded">{_json_for_script(embedded)}</script>\n'
        f"<script type=\"module\">\n{script}</script>",
    )
    title = trace_dict.get("name")
    if title:
        html = html.replace("<title>gradtrace:", f"<title>{_escape(str(title))} · gradtrace:")
    return html


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
