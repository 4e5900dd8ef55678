"""Sphinx hooks of DCNN Book (loaded through `sphinx.local_extensions` in _config.yml).

- Test markers out of sight: `# NBVAL_CHECK_OUTPUT` and nbval's other comment markers are
  removed from the code cells readers see (and copy); nbval reads the notebook, not the HTML.
  `.ci/nbtags.py` moves them into cell tags, so that this hook is only a safety net.
- Each script once: Sphinx 7.4 with sphinx-thebe/sphinx-togglebutton puts some inline
  scripts twice on every page; `const THEBE_JS_URL` declared twice is a JavaScript error.
- Solutions on or off: `DCNN_SOLUTIONS=0` in the environment (`make book SOLUTIONS=0`) drops
  every sphinx-exercise solution from the pages. sphinx-exercise 1.2.1's own `hide_solutions`
  cannot build the gated form we use (`solution-start` / `solution-end` around notebook code
  cells): it drops the start marker only, and the build stops on "unknown node type:
  solution_end_node"; so solutions are removed here, after sphinx-exercise merged them.
Our CSS/JS (`_assets/`, listed in _config.yml) style output tables, zoom figures on click and
point the widget manager at its fonts.
"""
from __future__ import annotations

import os
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


def solutions_wanted() -> bool:
    """False when the environment says ``DCNN_SOLUTIONS=0`` (or ``no``/``false``/``off``)."""
    return os.environ.get("DCNN_SOLUTIONS", "1").strip().lower() not in ("0", "no", "false", "off")


def set_solutions(app, config) -> None:
    config.dcnn_solutions = solutions_wanted()


def drop_solutions(app, doctree) -> None:
    """Remove every solution (after sphinx-exercise merged the gated ones) when they are off."""
    if app.config.dcnn_solutions:
        return
    from sphinx_exercise.nodes import solution_node

    for node in list(doctree.findall(solution_node)):
        node.parent.remove(node)


def setup(app):
    app.add_config_value("dcnn_solutions", True, "env")
    app.connect("config-inited", set_solutions)
    app.connect("doctree-read", drop_solutions)
    app.connect("doctree-resolved", hide_test_markers)
    app.connect("html-page-context", each_script_once, priority=900)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
