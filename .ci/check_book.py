#!/usr/bin/env python
"""After `make book`: every chapter page in _build/html has its Colab and Binder launch
buttons (pointing at _config.yml's repository), its figures, and, where it shows widgets,
the widget JavaScript served from the book itself."""
from __future__ import annotations

import re
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent


def main() -> int:
    config = yaml.safe_load((ROOT / "_config.yml").read_text())
    repo = config["repository"]["url"].removeprefix("https://github.com/")
    branch = config["repository"].get("branch", "main")
    html_dir = ROOT / "_build" / "html"
    problems = []
    notebooks = sorted((ROOT / "chapters").glob("*.ipynb"))
    if not notebooks:
        problems.append("no chapters")
    for nb in notebooks:
        page = html_dir / "chapters" / f"{nb.stem}.html"
        if not page.is_file():
            problems.append(f"{page.relative_to(ROOT)} was not built")
            continue
        html = page.read_text()
        colab = f"https://colab.research.google.com/github/{repo}/blob/{branch}/chapters/{nb.name}"
        binder = f"https://mybinder.org/v2/gh/{repo}/{branch}?urlpath="
        for what, url in (("Colab", colab), ("Binder", binder)):
            if url not in html:
                problems.append(f"{page.name}: no {what} launch button ({url})")
        images = re.findall(r'<img[^>]+src="([^"]+\.png)"', html)
        missing = [i for i in images if not (page.parent / i).is_file()]
        if '"image/png"' in nb.read_text() and not images:
            problems.append(f"{page.name}: the notebook has figures but the page shows none")
        if missing:
            problems.append(f"{page.name}: missing images {missing}")
        if "application/vnd.jupyter.widget-view+json" in html:
            for js in ("_static/widgets/embed-amd.js", "_static/widgets/require.js"):
                if js not in html or not (html_dir / js).is_file():
                    problems.append(f"{page.name}: shows widgets but {js} is not served")
        print(f"{page.relative_to(ROOT)}: Colab + Binder buttons, {len(images)} figures")
    for p in problems:
        print("PROBLEM:", p)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
