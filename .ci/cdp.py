"""A tiny Chrome DevTools Protocol client: open pages of the built book in headless Chromium,
collect their JavaScript errors, run a script in them and press keys.

Only `websocket-client` (in the lock) and a `chromium` binary (Debian's package) are needed.

    with Browser() as browser:
        page = browser.open("file:///.../chapters/lenet5.html")
        page.errors            # console errors, uncaught exceptions, failed loads
        page.evaluate("document.title")
"""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import tempfile
import time
from typing import Any

import websocket


def chromium_binary() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome", "chrome"):
        path = shutil.which(name)
        if path:
            return path
    return None


class Page:
    """One tab, attached through a flat session of the browser's connection."""

    def __init__(self, browser: "Browser", session: str, target: str) -> None:
        self.browser, self.session, self.target = browser, session, target
        self.errors: list[str] = []

    def send(self, method: str, params: dict | None = None, timeout: float = 30) -> dict:
        return self.browser.send(method, params, session=self.session, timeout=timeout)

    def evaluate(self, expression: str, timeout: float = 30) -> Any:
        """The value of a JavaScript expression (awaited when it is a promise)."""
        out = self.send("Runtime.evaluate", {"expression": expression, "returnByValue": True,
                                             "awaitPromise": True}, timeout=timeout)
        if "exceptionDetails" in out:
            raise RuntimeError(f"evaluate({expression[:60]!r}): {out['exceptionDetails'].get('text')}")
        return out.get("result", {}).get("value")

    def wait_for(self, expression: str, timeout: float = 15, poll: float = 0.25) -> Any:
        """Poll ``expression`` until it is truthy; its last value."""
        end = time.monotonic() + timeout
        value = None
        while time.monotonic() < end:
            value = self.evaluate(expression)
            if value:
                return value
            time.sleep(poll)
        return value

    def press(self, key: str, code: str, key_code: int) -> None:
        """A key press on the focused element (e.g. ``"ArrowRight", "ArrowRight", 39``)."""
        for kind in ("keyDown", "keyUp"):
            self.send("Input.dispatchKeyEvent", {"type": kind, "key": key, "code": code,
                                                 "windowsVirtualKeyCode": key_code})

    def close(self) -> None:
        self.browser.send("Target.closeTarget", {"targetId": self.target})


class Browser:
    """Headless Chromium with a DevTools websocket; a context manager."""

    def __init__(self, binary: str | None = None, width: int = 1280, height: int = 1600) -> None:
        self.binary = binary or chromium_binary()
        if not self.binary:
            raise RuntimeError("no chromium: install Debian's `chromium` package (apt-get install chromium)")
        self.size = (width, height)
        self._id = 0
        self._pages: dict[str, Page] = {}

    def __enter__(self) -> "Browser":
        self.profile = tempfile.mkdtemp(prefix="cdp-")
        self.proc = subprocess.Popen(
            [self.binary, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-sync",
             "--disable-background-networking", "--disable-component-update", "--remote-debugging-port=0",
             f"--user-data-dir={self.profile}", f"--window-size={self.size[0]},{self.size[1]}", "about:blank"],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        url, end = None, time.monotonic() + 60
        while url is None and time.monotonic() < end:
            line = self.proc.stderr.readline()
            if not line and self.proc.poll() is not None:
                break
            m = re.search(r"DevTools listening on (ws://\S+)", line)
            url = m.group(1) if m else None
        if url is None:
            self.__exit__()
            raise RuntimeError("chromium started but did not print its DevTools address")
        self.ws = websocket.create_connection(url, timeout=60, suppress_origin=True)
        return self

    def __exit__(self, *exc) -> None:
        if getattr(self, "ws", None) is not None:
            self.ws.close()
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        shutil.rmtree(self.profile, ignore_errors=True)

    def send(self, method: str, params: dict | None = None, session: str | None = None, timeout: float = 30) -> dict:
        self._id += 1
        msg: dict[str, Any] = {"id": self._id, "method": method, "params": params or {}}
        if session:
            msg["sessionId"] = session
        self.ws.send(json.dumps(msg))
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            reply = json.loads(self.ws.recv())
            if reply.get("id") == self._id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply.get("result", {})
            self._event(reply)
        raise TimeoutError(f"{method}: no answer in {timeout} s")

    def _event(self, msg: dict) -> None:
        page = self._pages.get(msg.get("sessionId", ""))
        if page is None:
            return
        method, p = msg.get("method"), msg.get("params", {})
        if method == "Runtime.exceptionThrown":
            d = p["exceptionDetails"]
            page.errors.append("uncaught " + (d.get("exception", {}).get("description") or d.get("text", "")).split("\n")[0])
        elif method == "Runtime.consoleAPICalled" and p.get("type") in ("error", "assert"):
            args = " ".join(str(a.get("value", a.get("description", ""))) for a in p.get("args", []))
            page.errors.append(f"console.{p['type']}: {args}"[:300])
        elif method == "Log.entryAdded" and p["entry"].get("level") == "error":
            e = p["entry"]
            page.errors.append(f"{e.get('source')}: {e.get('text')} {e.get('url', '')}".strip()[:300])
        elif method == "Page.loadEventFired":
            page.loaded = True

    def pump(self, seconds: float) -> None:
        """Read events for ``seconds`` (errors raised while a page settles)."""
        end = time.monotonic() + seconds
        self.ws.settimeout(0.2)
        try:
            while time.monotonic() < end:
                try:
                    self._event(json.loads(self.ws.recv()))
                except websocket.WebSocketTimeoutException:
                    pass
        finally:
            self.ws.settimeout(60)

    def open(self, url: str, settle: float = 2.0, timeout: float = 60) -> Page:
        """A new tab at ``url``: waits for the load event, then ``settle`` seconds more."""
        target = self.send("Target.createTarget", {"url": "about:blank"})["targetId"]
        session = self.send("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        page = Page(self, session, target)
        page.loaded = False
        self._pages[session] = page
        for domain in ("Runtime", "Log", "Page"):
            page.send(f"{domain}.enable")
        page.send("Emulation.setDeviceMetricsOverride", {"width": self.size[0], "height": self.size[1],
                                                         "deviceScaleFactor": 1, "mobile": False})
        page.send("Page.navigate", {"url": url})
        end = time.monotonic() + timeout
        while not page.loaded and time.monotonic() < end:
            self.pump(0.3)
        self.pump(settle)
        return page


def file_url(path: str | os.PathLike) -> str:
    return "file://" + os.path.abspath(path)
