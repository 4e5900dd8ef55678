"""Sphinx hooks of DCNN Book (loaded through `sphinx.local_extensions` in _config.yml).

- Test markers out of sight: `# NBVAL_CHECK_OUTPUT` and nbval's other comment markers are
  removed from the code cells readers see (and copy); nbval reads the notebook, not the HTML.
  `.ci/nbtags.py` moves them into cell tags, so that this hook is only a safety net.
- Each script once: Sphinx 7.4 with sphinx-thebe/sphinx-togglebutton puts some inline
  scripts twice on every page; `const THEBE_JS_URL` declared twice is a JavaScript error.
- Our CSS/JS (`_assets/`): themed output tables, click-to-zoom figures, the widget assets path.
"""
from __future__ import annotations

import re

from docutils import nodes

MARKER = re.compile(r"^[ \t]*#[ \t]*(NBVAL_CHECK_OUTPUT|NBVAL_IGNORE_OUTPUT|NBVAL_SKIP|NBVAL_RAISES_EXCEPTION"
                    r"|PYTEST_VALIDATE_IGNORE_OUTPUT)[ \t]*(\n|$)", re.MULTILINE)


def strip_markers(source: str) -> str:
    """``source`` without nbval's comment markers (whole lines)."""
    return MARKER.sub("", source)


def hide_test_markers(app, doctree, docname) -> None:
    for block in list(doctree.findall(nodes.literal_block)):
        parent = block.parent
        if parent is None or "cell_input" not in parent.get("classes", []):
            continue
        text = block.astext()
        clean = strip_markers(text)
        if clean != text:
            block.children = [nodes.Text(clean)]
            block.rawsource = clean


def each_script_once(app, pagename, templatename, context, doctree) -> None:
    scripts = context.get("script_files")
    if not scripts:
        return
    seen, unique = set(), []
    for js in scripts:
        key = (getattr(js, "filename", js) or "", tuple(sorted(getattr(js, "attributes", {}).items())))
        if key not in seen:
            seen.add(key)
            unique.append(js)
    scripts[:] = unique


def setup(app):
    app.connect("doctree-resolved", hide_test_markers)
    app.connect("html-page-context", each_script_once, priority=900)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
