#!/usr/bin/env python3
"""Opens HTML pages in headless Chromium and reports what a reader's browser did with them.

Usage: browser-check.py [--chromium PATH] [--timeout S] [--screenshot-dir DIR]
                        [--query SELECTOR]... [--click SELECTOR]... [--bypass-csp] PAGE...

Each PAGE is opened from its file:// URL in a fresh tab of one browser (a fresh profile in
a temporary directory). The report, one JSON object on standard output, holds per page:

- ``console``: every console message, log entry (CSP violations, failed loads) and
  uncaught exception, with its level;
- ``requests``: every request the page attempted other than the page itself and ``data:``
  URIs (each one is also refused before it leaves the machine);
- ``dialogs``: every JavaScript dialog opened (``alert``, ``confirm``…), dismissed;
- ``title``, ``text`` (the body's textContent), ``html`` (the DOM serialised) and, per
  ``--query`` selector, the matching elements (tag, attributes, textContent);
- with ``--screenshot-dir``, ``screenshot``: a full-page PNG written there (``<stem>.png``)
  with its width, height and bytes, and the distinct colours of a reduced copy.

``--click SELECTOR`` clicks every matching element after the load (the page's own
script runs: its errors are reported). ``--bypass-csp`` opens the page with its
Content-Security-Policy off, so that anything the page refers to is requested (and
reported) instead of blocked.

It talks to the browser over the DevTools protocol on a pipe (--remote-debugging-pipe:
file descriptors 3 and 4, messages ended by NUL), so it needs nothing but the standard
library. Every step has a deadline: a browser that hangs ends the run with exit status 2.
Exit status 3: the browser could not be found.
"""

import argparse
import base64
import json
import os
import pathlib
import select
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import time
import zlib

# What the page's script may still do after the load event (a timer, a promise) before
# the DOM is read.
SETTLE_SECONDS = 0.3
# The reduced copy whose colours are counted: wide enough to keep text and badges.
THUMBNAIL_WIDTH = 240
# Chromium cannot capture taller pages in one piece.
MAX_CAPTURE_HEIGHT = 16000


class Failure(Exception):
    """The browser did not do what was asked in time."""


class Browser:
    """One Chromium process driven over its DevTools pipe."""

    def __init__(self, executable, timeout):
        self.timeout = timeout
        self.profile = tempfile.TemporaryDirectory(prefix="pgsage-chromium-")
        # to_browser: we write, Chromium reads on fd 3; from_browser: Chromium writes on fd 4.
        to_read, self.to_write = os.pipe()
        self.from_read, from_write = os.pipe()
        # Moved above 10 so that placing them on 3 and 4 in the child cannot clobber them.
        high_read = fcntl_dup(to_read)
        high_write = fcntl_dup(from_write)
        for fd in (to_read, from_write):
            os.close(fd)

        def place_pipe():
            os.dup2(high_read, 3)
            os.dup2(high_write, 4)
            # The browser dies with this script, even when the script is killed (a test's
            # timeout): no Chromium is left running on a CI machine.
            die_with_parent()

        args = [
            executable,
            "--headless",
            "--remote-debugging-pipe",
            f"--user-data-dir={self.profile.name}",
            "--no-first-run",
            "--no-default-browser-check",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-extensions",
            "--disable-dev-shm-usage",
            "--mute-audio",
            "--hide-scrollbars",
            "--force-color-profile=srgb",
            "--window-size=1200,900",
            "about:blank",
        ]
        if os.geteuid() == 0:
            # Chromium refuses to start its sandbox as root (CI containers run as root).
            args.insert(1, "--no-sandbox")
        self.log = tempfile.TemporaryFile()
        self.process = subprocess.Popen(
            args,
            stdin=subprocess.DEVNULL,
            stdout=self.log,
            stderr=self.log,
            pass_fds=(3, 4),
            preexec_fn=place_pipe,
            start_new_session=True,
        )
        os.close(high_read)
        os.close(high_write)
        self.buffer = b""
        self.next_id = 0
        self.events = []

    def close(self):
        try:
            os.close(self.to_write)
        except OSError:
            pass
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()
        os.close(self.from_read)
        self.profile.cleanup()

    def browser_log(self):
        self.log.seek(0)
        return self.log.read().decode("utf-8", "replace")[-4000:]

    def post(self, method, params=None, session=None):
        """Sends a command without waiting for its answer; returns its id."""
        self.next_id += 1
        message = {"id": self.next_id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        data = json.dumps(message).encode() + b"\0"
        while data:
            written = os.write(self.to_write, data)
            data = data[written:]
        return self.next_id

    def call(self, method, params=None, session=None, on_event=None):
        """Sends a command and waits for its answer, handing events on meanwhile."""
        wanted = self.post(method, params, session)
        deadline = time.monotonic() + self.timeout
        while True:
            message = self.receive(deadline, f"{method} did not answer")
            if message.get("id") == wanted:
                if "error" in message:
                    raise Failure(f"{method}: {message['error']}")
                return message.get("result", {})
            if "method" in message and on_event:
                on_event(message)

    def pump(self, seconds, on_event, until=None, what="an event"):
        """Hands events on for `seconds`, or until `until(message)` holds (then True)."""
        deadline = time.monotonic() + seconds
        while True:
            try:
                message = self.receive(deadline, f"waiting for {what}")
            except TimeoutError:
                return False
            if "method" in message:
                on_event(message)
                if until and until(message):
                    return True

    def receive(self, deadline, what):
        while b"\0" not in self.buffer:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(what)
            ready, _, _ = select.select([self.from_read], [], [], left)
            if not ready:
                raise TimeoutError(what)
            chunk = os.read(self.from_read, 1 << 20)
            if not chunk:
                raise Failure(f"the browser closed its pipe ({what})")
            self.buffer += chunk
        raw, self.buffer = self.buffer.split(b"\0", 1)
        return json.loads(raw)


def die_with_parent():
    import ctypes

    pr_set_pdeathsig = 1
    ctypes.CDLL(None, use_errno=True).prctl(pr_set_pdeathsig, signal.SIGKILL)


def fcntl_dup(fd):
    import fcntl

    return fcntl.fcntl(fd, fcntl.F_DUPFD, 10)


class PageWatch:
    """What one tab did: console, requests, dialogs."""

    def __init__(self, browser, session, page_url):
        self.browser = browser
        self.session = session
        self.page_url = page_url
        self.console = []
        self.requests = []
        self.request_ids = set()
        self.dialogs = []
        self.loaded = False

    def allowed(self, url):
        return url == self.page_url or url.startswith("data:") or url == "about:blank"

    def on_event(self, message):
        if message.get("sessionId") != self.session:
            return
        method = message["method"]
        p = message.get("params", {})
        if method == "Runtime.consoleAPICalled":
            text = " ".join(
                str(a.get("value", a.get("description", a.get("type")))) for a in p.get("args", [])
            )
            self.console.append({"source": "console", "level": p.get("type"), "text": text})
        elif method == "Runtime.exceptionThrown":
            d = p.get("exceptionDetails", {})
            text = d.get("exception", {}).get("description") or d.get("text", "")
            self.console.append({"source": "exception", "level": "error", "text": text})
        elif method == "Log.entryAdded":
            e = p.get("entry", {})
            self.console.append(
                {
                    "source": e.get("source"),
                    "level": e.get("level"),
                    "text": e.get("text"),
                    "url": e.get("url"),
                }
            )
        elif method == "Network.requestWillBeSent":
            url = p.get("request", {}).get("url", "")
            if not self.allowed(url):
                self.request_ids.add(p.get("requestId"))
                self.requests.append(
                    {"url": url, "type": p.get("type"), "seen_by": "network", "id": p.get("requestId")}
                )
        elif method == "Network.loadingFailed":
            if p.get("requestId") in self.request_ids:
                for r in self.requests:
                    if r.get("id") == p.get("requestId"):
                        r["failed"] = p.get("blockedReason") or p.get("errorText")
        elif method == "Fetch.requestPaused":
            url = p.get("request", {}).get("url", "")
            if self.allowed(url):
                self.browser.post("Fetch.continueRequest", {"requestId": p["requestId"]}, self.session)
            else:
                if p.get("networkId") not in self.request_ids:
                    self.requests.append(
                        {"url": url, "type": p.get("resourceType"), "seen_by": "fetch"}
                    )
                # Refused here: a test never sends anything off the machine.
                self.browser.post(
                    "Fetch.failRequest",
                    {"requestId": p["requestId"], "errorReason": "BlockedByClient"},
                    self.session,
                )
        elif method == "Page.javascriptDialogOpening":
            self.dialogs.append({"type": p.get("type"), "message": p.get("message")})
            self.browser.post("Page.handleJavaScriptDialog", {"accept": False}, self.session)
        elif method == "Page.loadEventFired":
            self.loaded = True


COLLECT = r"""
(function(queries){
  function describe(e){
    var attrs = {};
    for (var i = 0; i < e.attributes.length; i++) { attrs[e.attributes[i].name] = e.attributes[i].value; }
    return {tag: e.tagName.toLowerCase(), attrs: attrs, text: e.textContent};
  }
  var found = {};
  queries.forEach(function(q){ found[q] = Array.prototype.map.call(document.querySelectorAll(q), describe); });
  return JSON.stringify({
    title: document.title,
    text: document.body ? document.body.textContent : "",
    html: document.documentElement.outerHTML,
    queries: found,
  });
})
"""


def check_page(browser, path, args):
    url = pathlib.Path(path).resolve().as_uri()
    target = browser.call("Target.createTarget", {"url": "about:blank"})["targetId"]
    session = browser.call("Target.attachToTarget", {"targetId": target, "flatten": True})[
        "sessionId"
    ]
    watch = PageWatch(browser, session, url)
    ev = watch.on_event
    for method, params in [
        ("Runtime.enable", {}),
        ("Log.enable", {}),
        ("Network.enable", {}),
        ("Page.enable", {}),
        ("Fetch.enable", {"patterns": [{"urlPattern": "*"}]}),
        ("Page.setBypassCSP", {"enabled": bool(args.bypass_csp)}),
    ]:
        browser.call(method, params, session, ev)
    nav = browser.call("Page.navigate", {"url": url}, session, ev)
    if nav.get("errorText"):
        raise Failure(f"opening {url}: {nav['errorText']}")
    if not watch.loaded and not browser.pump(
        browser.timeout, ev, until=lambda m: watch.loaded, what=f"the load of {url}"
    ):
        raise Failure(f"{url} did not finish loading in {browser.timeout} s")
    browser.pump(SETTLE_SECONDS, ev)
    if args.click:
        clicks = json.dumps(args.click)
        browser.call(
            "Runtime.evaluate",
            {
                "expression": f"{clicks}.forEach(function(q){{document.querySelectorAll(q).forEach(function(e){{e.click()}})}})",
                "userGesture": True,
            },
            session,
            ev,
        )
        browser.pump(SETTLE_SECONDS, ev)
    result = browser.call(
        "Runtime.evaluate",
        {"expression": f"{COLLECT}({json.dumps(args.query)})", "returnByValue": True},
        session,
        ev,
    )
    if "exceptionDetails" in result:
        raise Failure(f"reading the DOM of {url}: {result['exceptionDetails']}")
    report = {"page": str(path), "url": url}
    report.update(json.loads(result["result"]["value"]))
    if args.screenshot_dir:
        report["screenshot"] = screenshot(browser, session, ev, path, args.screenshot_dir)
    browser.pump(SETTLE_SECONDS / 3, ev)
    report["console"] = watch.console
    report["requests"] = watch.requests
    report["dialogs"] = watch.dialogs
    browser.call("Target.closeTarget", {"targetId": target})
    return report


def screenshot(browser, session, ev, path, directory):
    size = browser.call("Page.getLayoutMetrics", {}, session, ev)["cssContentSize"]
    width = int(size["width"])
    height = min(int(size["height"]), MAX_CAPTURE_HEIGHT)

    def capture(scale):
        data = browser.call(
            "Page.captureScreenshot",
            {
                "format": "png",
                "captureBeyondViewport": True,
                "clip": {"x": 0, "y": 0, "width": width, "height": height, "scale": scale},
            },
            session,
            ev,
        )["data"]
        return base64.b64decode(data)

    png = capture(1)
    out = pathlib.Path(directory) / (pathlib.Path(path).stem + ".png")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(png)
    png_width, png_height, _ = png_header(png)
    colours = pixel_colours(capture(min(1.0, THUMBNAIL_WIDTH / max(width, 1))))
    total = sum(colours.values())
    return {
        "path": str(out),
        "width": png_width,
        "height": png_height,
        "bytes": len(png),
        "colours": len(colours),
        "most_common_colour_share": max(colours.values()) / total if total else 1.0,
    }


def png_header(png):
    if png[:8] != b"\x89PNG\r\n\x1a\n" or png[12:16] != b"IHDR":
        raise Failure("the screenshot is not a PNG")
    width, height, depth, colour_type = struct.unpack(">IIBB", png[16:26])
    return width, height, (depth, colour_type)


def pixel_colours(png):
    """Counts each colour's pixels in an 8-bit RGB or RGBA PNG (what Chromium writes)."""
    width, height, (depth, colour_type) = png_header(png)
    channels = {2: 3, 6: 4}.get(colour_type)
    if depth != 8 or channels is None:
        raise Failure(f"unexpected PNG format: depth {depth}, colour type {colour_type}")
    data = b""
    pos = 8
    while pos < len(png):
        (length,) = struct.unpack(">I", png[pos : pos + 4])
        kind = png[pos + 4 : pos + 8]
        if kind == b"IDAT":
            data += png[pos + 8 : pos + 8 + length]
        pos += 12 + length
    raw = zlib.decompress(data)
    stride = width * channels
    previous = bytearray(stride)
    colours = {}
    for y in range(height):
        start = y * (stride + 1)
        kind = raw[start]
        row = bytearray(raw[start + 1 : start + 1 + stride])
        if kind == 1:
            for i in range(channels, stride):
                row[i] = (row[i] + row[i - channels]) & 0xFF
        elif kind == 2:
            for i in range(stride):
                row[i] = (row[i] + previous[i]) & 0xFF
        elif kind == 3:
            for i in range(stride):
                left = row[i - channels] if i >= channels else 0
                row[i] = (row[i] + ((left + previous[i]) >> 1)) & 0xFF
        elif kind == 4:
            for i in range(stride):
                a = row[i - channels] if i >= channels else 0
                b = previous[i]
                c = previous[i - channels] if i >= channels else 0
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                pred = a if pa <= pb and pa <= pc else (b if pb <= pc else c)
                row[i] = (row[i] + pred) & 0xFF
        for i in range(0, stride, channels):
            key = bytes(row[i : i + channels])
            colours[key] = colours.get(key, 0) + 1
        previous = row
    return colours


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("pages", nargs="+")
    parser.add_argument("--chromium", default=os.environ.get("PGSAGE_CHROMIUM", "chromium"))
    parser.add_argument("--timeout", type=float, default=20.0, help="seconds per step")
    parser.add_argument("--screenshot-dir")
    parser.add_argument("--query", action="append", default=[])
    parser.add_argument("--click", action="append", default=[])
    parser.add_argument("--bypass-csp", action="store_true")
    args = parser.parse_args()
    executable = shutil.which(args.chromium)
    if executable is None:
        print(f"browser-check: {args.chromium} not found", file=sys.stderr)
        return 3
    browser = Browser(executable, args.timeout)
    try:
        version = browser.call("Browser.getVersion")
        pages = [check_page(browser, p, args) for p in args.pages]
        browser.post("Browser.close")
    except (Failure, TimeoutError, OSError, KeyError, ValueError) as e:
        print(f"browser-check: {type(e).__name__}: {e}", file=sys.stderr)
        os.killpg(browser.process.pid, signal.SIGKILL)
        print(browser.browser_log(), file=sys.stderr)
        browser.close()
        return 2
    browser.close()
    json.dump({"browser": version.get("product"), "pages": pages}, sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
