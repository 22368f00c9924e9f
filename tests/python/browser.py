"""Open an HTML file in headless Chromium through the DevTools protocol and report what a
reader would see: console errors and uncaught exceptions, failed requests, every <img>
(loaded or broken), the headings, and a full-page screenshot.

Used by the report tests (screening report, squad report). Needs Debian's `chromium` and
`python3-websocket` (scripts/setup.sh installs both); `chromium_or_skip()` skips a test with
a message naming what is absent.

    page = open_page(Path("report.html"), screenshot=Path("shot.png"))
    assert page.console_errors == []
    assert all(img.loaded for img in page.images)
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")


def find_chromium() -> str | None:
    """The Chromium executable: $SPORTSMED_CHROMIUM, else the first of CHROMIUM_NAMES on PATH."""
    env = os.environ.get("SPORTSMED_CHROMIUM")
    if env:
        return env if Path(env).exists() else None
    for name in CHROMIUM_NAMES:
        path = shutil.which(name)
        if path:
            return path
    return None


def chromium_or_skip() -> str:
    import pytest

    exe = find_chromium()
    if exe is None:
        pytest.skip("headless Chromium is absent (Debian package `chromium`; scripts/setup.sh installs it)")
    try:
        import websocket  # noqa: F401
    except ImportError:
        pytest.skip("python3-websocket is absent (scripts/setup.sh installs it)")
    return exe


@dataclass
class Image:
    src: str
    loaded: bool
    width: int
    height: int
    alt: str


@dataclass
class Page:
    title: str
    console_errors: list[str] = field(default_factory=list)
    failed_requests: list[str] = field(default_factory=list)
    images: list[Image] = field(default_factory=list)
    headings: list[tuple[str, str]] = field(default_factory=list)  # (tag, text)
    ids: list[str] = field(default_factory=list)
    links: list[str] = field(default_factory=list)  # every href
    pdf_pages: int | None = None


class _DevTools:
    def __init__(self, url: str, timeout: float):
        import websocket

        self.ws = websocket.create_connection(url, timeout=timeout, suppress_origin=True)
        self.next_id = 0
        self.events: list[dict] = []

    def call(self, method: str, **params):
        self.next_id += 1
        my_id = self.next_id
        self.ws.send(json.dumps({"id": my_id, "method": method, "params": params}))
        while True:
            message = json.loads(self.ws.recv())
            if message.get("id") == my_id:
                if "error" in message:
                    raise RuntimeError(f"DevTools {method}: {message['error']}")
                return message.get("result", {})
            self.events.append(message)

    def wait_for(self, event: str, timeout: float) -> dict:
        for i, message in enumerate(self.events):
            if message.get("method") == event:
                return self.events.pop(i)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            message = json.loads(self.ws.recv())
            if message.get("method") == event:
                return message
            self.events.append(message)
        raise TimeoutError(f"DevTools: no {event} within {timeout} s")

    def close(self):
        self.ws.close()


_PAGE_FACTS = """(() => {
  const imgs = Array.from(document.images).map(i => ({
      src: i.currentSrc.slice(0, 80), loaded: i.complete && i.naturalWidth > 0,
      width: i.naturalWidth, height: i.naturalHeight, alt: i.alt || ''}));
  const heads = Array.from(document.querySelectorAll('h1,h2,h3,h4'))
      .map(h => [h.tagName.toLowerCase(), h.textContent.trim()]);
  const ids = Array.from(document.querySelectorAll('[id]')).map(e => e.id);
  const links = Array.from(document.querySelectorAll('a[href]')).map(a => a.getAttribute('href'));
  return JSON.stringify({title: document.title, imgs, heads, ids, links});
})()"""


def open_page(html: Path, *, screenshot: Path | None = None, pdf: Path | None = None,
              width: int = 1280, height: int = 900, timeout: float = 60.0) -> Page:
    """Loads `html` (a local file) in a fresh headless Chromium and returns what it saw.
    `screenshot` gets a full-page PNG; `pdf` an A4 print (the print stylesheet)."""
    exe = find_chromium()
    if exe is None:
        raise FileNotFoundError("headless Chromium is absent (Debian package `chromium`)")
    html = Path(html).resolve()
    profile = tempfile.mkdtemp(prefix="sportsmed-chromium-")
    try:
        proc = subprocess.Popen(
            [exe, "--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run",
             "--no-default-browser-check", "--disable-extensions", "--disable-dev-shm-usage",
             f"--user-data-dir={profile}", "--remote-debugging-port=0",
             f"--window-size={width},{height}", "about:blank"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        try:
            port_file = Path(profile) / "DevToolsActivePort"
            deadline = time.monotonic() + timeout
            while not (port_file.exists() and len(port_file.read_text().splitlines()) >= 2):
                if proc.poll() is not None:
                    raise RuntimeError(f"Chromium exited with status {proc.returncode} before it listened")
                if time.monotonic() > deadline:
                    raise TimeoutError("Chromium did not open its DevTools port")
                time.sleep(0.1)
            port = port_file.read_text().splitlines()[0]
            import urllib.request

            targets = json.loads(urllib.request.urlopen(f"http://127.0.0.1:{port}/json", timeout=timeout).read())
            page_target = next(t for t in targets if t.get("type") == "page")
            dt = _DevTools(page_target["webSocketDebuggerUrl"], timeout)
            try:
                return _inspect(dt, html, screenshot, pdf, width, height, timeout)
            finally:
                dt.close()
        finally:
            _stop_group(proc)
    finally:
        _remove_profile(profile)


def _stop_group(proc: subprocess.Popen) -> None:
    """Chromium's helpers (renderer, GPU, crashpad) live in its process group and can outlive
    the browser by a moment, still writing to the profile: stop the browser, then the group."""
    def signal_group(sig):
        try:
            os.killpg(proc.pid, sig)
        except (ProcessLookupError, PermissionError):
            pass

    signal_group(signal.SIGTERM)
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
    signal_group(signal.SIGKILL)  # whatever helper is left


def _remove_profile(profile: str) -> None:
    """A helper process that had not yet exited can add a file while the profile is removed
    ("Directory not empty"); retry a few times, then leave what remains in /tmp."""
    for _ in range(20):
        shutil.rmtree(profile, ignore_errors=True)
        if not os.path.exists(profile):
            return
        time.sleep(0.25)


def _inspect(dt: _DevTools, html: Path, screenshot, pdf, width, height, timeout) -> Page:
    dt.call("Page.enable")
    dt.call("Runtime.enable")
    dt.call("Log.enable")
    dt.call("Network.enable")
    dt.call("Page.navigate", url=html.as_uri())
    dt.wait_for("Page.loadEventFired", timeout)
    time.sleep(0.3)  # let late console messages arrive
    facts = json.loads(dt.call("Runtime.evaluate", expression=_PAGE_FACTS, returnByValue=True)["result"]["value"])
    page = Page(title=facts["title"])
    page.images = [Image(i["src"], i["loaded"], i["width"], i["height"], i["alt"]) for i in facts["imgs"]]
    page.headings = [tuple(h) for h in facts["heads"]]
    page.ids = facts["ids"]
    page.links = facts["links"]
    if screenshot is not None:
        metrics = dt.call("Page.getLayoutMetrics")
        size = metrics.get("cssContentSize") or metrics["contentSize"]
        full_height = int(min(size["height"], 20000))
        dt.call("Emulation.setDeviceMetricsOverride", width=width, height=full_height,
                deviceScaleFactor=1, mobile=False)
        shot = dt.call("Page.captureScreenshot", format="png", captureBeyondViewport=True)
        Path(screenshot).write_bytes(base64.b64decode(shot["data"]))
        dt.call("Emulation.clearDeviceMetricsOverride")
    if pdf is not None:
        printed = dt.call("Page.printToPDF", paperWidth=8.27, paperHeight=11.69, printBackground=True,
                          preferCSSPageSize=True)
        data = base64.b64decode(printed["data"])
        Path(pdf).write_bytes(data)
        page.pdf_pages = data.count(b"/Type /Page") - data.count(b"/Type /Pages")
    # drain what arrived while we worked, then classify
    dt.ws.settimeout(0.2)
    try:
        while True:
            dt.events.append(json.loads(dt.ws.recv()))
    except Exception:
        pass
    for message in dt.events:
        method, params = message.get("method"), message.get("params", {})
        if method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert"):
            text = " ".join(str(a.get("value", a.get("description", ""))) for a in params.get("args", []))
            page.console_errors.append(f"console.{params['type']}: {text}")
        elif method == "Runtime.exceptionThrown":
            details = params.get("exceptionDetails", {})
            text = details.get("exception", {}).get("description") or details.get("text", "")
            page.console_errors.append(f"uncaught: {text}")
        elif method == "Log.entryAdded" and params.get("entry", {}).get("level") == "error":
            entry = params["entry"]
            page.console_errors.append(f"{entry.get('source')}: {entry.get('text')} {entry.get('url', '')}".strip())
        elif method == "Network.loadingFailed":
            page.failed_requests.append(f"{params.get('errorText')} ({params.get('type')})")
    return page
