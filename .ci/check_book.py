#!/usr/bin/env python
"""After `make book`: what can be checked mechanically on every page of _build/html.

Static (the HTML files):
  - every chapter page has its Colab and Binder launch buttons (from _config.yml's repository),
    its figures, and where it shows widgets the widget JavaScript served from the book itself;
  - no text output wider than the column: `<pre>` lines in cell outputs over --max-chars;
  - no `<NA>` (pandas' missing value) anywhere in an output;
  - no page title that repeats the book's title ("DCNN Book — DCNN Book");
  - widget state in the page wherever the notebook saved widgets, and for explorers
    (dl.widgets) every precomputed frame: Image models and the browser links that switch them.
In headless Chromium (DevTools protocol, .ci/cdp.py; skipped with --no-browser):
  - no JavaScript console error, uncaught exception or failed load on any page;
  - on pages with an explorer, moving its first slider (arrow key) shows another picture;
  - clicking a figure opens it larger (click-to-zoom).

Every problem is listed; the exit status is 1 when there is one, unless --report-only (CI
uses it until the chapters are converted; the lead removes the switch in .ci/run).
"""
from __future__ import annotations

import argparse
import json
import re
import sys
from collections import Counter
from pathlib import Path

import yaml
from bs4 import BeautifulSoup

ROOT = Path(__file__).resolve().parent.parent
MAX_CHARS = 100


def static_problems(page: Path, nb: Path | None, html_dir: Path, repo: str, branch: str, title: str,
                    max_chars: int) -> tuple[list[str], str]:
    """Problems of one built page (``nb``: its notebook, if it is a chapter notebook), and a
    one-line summary."""
    problems: list[str] = []
    html = page.read_text(encoding="utf-8")
    soup = BeautifulSoup(html, "html.parser")
    name = page.relative_to(html_dir).as_posix()

    page_title = soup.title.get_text() if soup.title else ""
    parts = [p.strip() for p in page_title.split("\u2014")]
    if len(parts) == 2 and parts[0] == parts[1]:
        problems.append(f"{name}: page title repeats the book's title: {page_title!r}")

    wide = []
    for pre in soup.select("div.cell_output pre"):
        for line in pre.get_text().splitlines():
            if len(line) > max_chars:
                wide.append(line)
    if wide:
        longest = max(wide, key=len)
        problems.append(f"{name}: {len(wide)} output line(s) wider than {max_chars} characters "
                        f"(longest {len(longest)}: {longest[:70]!r}...)")
    na = [el for el in soup.select("div.cell_output") if "<NA>" in el.get_text()]
    if na:
        problems.append(f"{name}: <NA> in {len(na)} output(s) (show missing values as text, e.g. dl.viz.html_table)")

    images = re.findall(r'<img[^>]+src="([^"]+\.png)"', html)
    missing = [i for i in images if not (page.parent / i).is_file()]
    if missing:
        problems.append(f"{name}: missing images {missing}")
    if "application/vnd.jupyter.widget-view+json" in html:
        for js in ("_static/widgets/embed-amd.js", "_static/widgets/require.js"):
            if js.split("/", 1)[1] not in html or not (html_dir / js).is_file():
                problems.append(f"{name}: shows widgets but {js} is not served")

    summary = f"{len(images)} figures"
    if nb is not None:
        text = nb.read_text(encoding="utf-8")
        colab = f"https://colab.research.google.com/github/{repo}/blob/{branch}/chapters/{nb.name}"
        binder = f"https://mybinder.org/v2/gh/{repo}/{branch}?urlpath="
        for what, url in (("Colab", colab), ("Binder", binder)):
            if url not in html:
                problems.append(f"{name}: no {what} launch button ({url})")
        if '"image/png"' in text and not images:
            problems.append(f"{name}: the notebook has figures but the page shows none")
        problems += widget_problems(name, json.loads(text), soup)
        summary += ", Colab + Binder buttons"
    return problems, summary


def _models(state: dict) -> Counter:
    return Counter(m["model_name"] for m in state.values())


def widget_problems(name: str, nb: dict, soup: BeautifulSoup) -> list[str]:
    """The notebook's saved widgets are in the page; explorers carry their frames and links."""
    views = [o for c in nb["cells"] for o in c.get("outputs", [])
             if "application/vnd.jupyter.widget-view+json" in o.get("data", {})]
    if not views:
        return []
    saved = nb.get("metadata", {}).get("widgets", {}).get("application/vnd.jupyter.widget-state+json", {})
    script = soup.find("script", type="application/vnd.jupyter.widget-state+json")
    if not saved or script is None:
        return [f"{name}: {len(views)} widget output(s) but no widget state "
                f"({'not saved in the notebook' if not saved else 'not in the page'})"]
    state = json.loads(script.string)["state"]
    problems = []
    absent = [v["data"]["application/vnd.jupyter.widget-view+json"]["model_id"] for v in views]
    absent = [m for m in absent if m not in state]
    if absent:
        problems.append(f"{name}: {len(absent)} widget view(s) whose model is not in the page's state")
    models = _models(state)
    sliders = models["IntSliderModel"] + models["FloatSliderModel"] + models["SelectionSliderModel"]
    if sliders and not models["StackModel"]:
        problems.append(f"{name}: {sliders} slider(s) but no precomputed frames (an explorer drawn before "
                        "dl.widgets precomputed them: re-execute the chapter)")
    elif models["StackModel"]:
        linked = sum(1 for m in state.values() if m["model_name"] == "DirectionalLinkModel"
                     and m["state"].get("target", [None, None])[1] == "selected_index")
        if linked < models["StackModel"]:
            problems.append(f"{name}: {models['StackModel']} frame stacks but only {linked} linked to a slider")
    return problems


# ---- in the browser ----------------------------------------------------------------------------

EXPLORER = """[...document.querySelectorAll('div.cell_output .widget-vbox')]
  .find(b => b.querySelector('.noUi-handle') && b.querySelector('img.widget-image'))"""
# The picture an explorer shows now (its blob URL; a Stack shows one child), "" when none,
# null when the page has no explorer (sliders and an image in one box).
SHOWN = f"""(() => {{ const box = {EXPLORER}; if (!box) {{ return null; }}
  const img = [...box.querySelectorAll('img.widget-image')].find(i => i.offsetParent !== null);
  return img && img.naturalWidth > 0 ? img.src : ""; }})()"""
# Focus the explorer's first slider; the key that moves it ("" when it cannot be focused).
FOCUS_SLIDER = f"""(() => {{ const box = {EXPLORER}; const handle = box && box.querySelector('.noUi-handle');
  if (!handle) {{ return ""; }} handle.scrollIntoView(); handle.focus();
  if (document.activeElement !== handle) {{ return ""; }}
  const atEnd = handle.getAttribute('aria-valuenow') === handle.getAttribute('aria-valuemax');
  return atEnd ? "ArrowLeft" : "ArrowRight"; }})()"""

# Click the first figure of the outputs: the zoom overlay (_assets/dcnn.js) shows it larger.
ZOOM = """(() => { const img = document.querySelector('div.cell_output img:not(.widget-image)');
  if (!img) { return null; } img.scrollIntoView(); const shown = img.getBoundingClientRect().width;
  img.click(); const big = document.querySelector('.dcnn-zoom img');
  const ok = !!big && parseFloat(big.style.width) > shown;
  document.querySelector('.dcnn-zoom') && document.querySelector('.dcnn-zoom').click();
  return ok && !document.querySelector('.dcnn-zoom'); })()"""


def browser_problems(pages: list[Path], html_dir: Path) -> list[str]:
    import cdp

    problems = []
    with cdp.Browser() as browser:
        for page in pages:
            name = page.relative_to(html_dir).as_posix()
            tab = browser.open(cdp.file_url(page), settle=2.5)
            if tab.evaluate(SHOWN) is not None:
                before = tab.wait_for(SHOWN, timeout=10)
                if not before:
                    problems.append(f"{name}: an explorer shows no picture")
                elif not (key := tab.evaluate(FOCUS_SLIDER)):
                    problems.append(f"{name}: could not focus the explorer's first slider")
                else:
                    tab.press(key, key, 39 if key == "ArrowRight" else 37)   # what a reader's key press does
                    browser.pump(0.5)
                    if tab.wait_for(f"(() => {{ const s = {SHOWN}; return s && s !== {json.dumps(before)}; }})()",
                                    timeout=3) is not True:
                        problems.append(f"{name}: moving the explorer's first slider does not change its picture "
                                        "(no precomputed frames: re-execute the chapter with dl.widgets' explorers)")
            if tab.evaluate(ZOOM) is False:
                problems.append(f"{name}: clicking a figure does not open it larger (click-to-zoom)")
            problems += [f"{name}: JavaScript: {e}" for e in tab.errors]
            tab.close()
    return problems


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("html_dir", nargs="?", type=Path, default=ROOT / "_build" / "html")
    ap.add_argument("--report-only", action="store_true", help="list the problems, exit 0")
    ap.add_argument("--no-browser", action="store_true", help="skip the Chromium checks")
    ap.add_argument("--max-chars", type=int, default=MAX_CHARS, help="widest text line of an output")
    args = ap.parse_args(argv)
    config = yaml.safe_load((ROOT / "_config.yml").read_text())
    repo = config["repository"]["url"].removeprefix("https://github.com/")
    branch = config["repository"].get("branch", "main")
    html_dir = args.html_dir
    problems = []
    notebooks = {p.stem: p for p in sorted((ROOT / "chapters").glob("*.ipynb"))}
    if not notebooks:
        problems.append("no chapters")
    for stem in notebooks:
        if not (html_dir / "chapters" / f"{stem}.html").is_file():
            problems.append(f"chapters/{stem}.html was not built")
    pages = sorted((html_dir / "chapters").glob("*.html"))
    for page in pages:
        found, summary = static_problems(page, notebooks.get(page.stem), html_dir, repo, branch,
                                         config["title"], args.max_chars)
        problems += found
        print(f"{page.relative_to(html_dir)}: {summary}, {len(found)} problem(s)")
    if not args.no_browser:
        problems += browser_problems([html_dir / "index.html", *pages], html_dir)
    for p in problems:
        print("PROBLEM:", p)
    print(f"{len(problems)} problem(s)" + (" (report only)" if args.report_only and problems else ""))
    return 1 if problems and not args.report_only else 0


if __name__ == "__main__":
    sys.exit(main())
