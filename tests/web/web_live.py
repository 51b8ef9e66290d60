"""A live ``vivres serve`` on 127.0.0.1 and Debian's Chromium driven by Playwright, with every
request that is not to 127.0.0.1 blocked and counted; axe-core injected from tests/web/vendor.

Shared by the browser tests and ``vivres bench web`` (benchmarks/web_bench.py).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse

HERE = Path(__file__).resolve().parent
AXE = HERE / "vendor" / "axe-core" / "axe.min.js"
CHROMIUM_PATHS = ("/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/lib/chromium/chromium")
#: quiet Chromium: no background fetches of its own (updates, safe browsing, metrics)
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-default-apps",
    "--disable-sync",
    "--metrics-recording-only",
    "--no-first-run",
    "--disable-features=Translate,OptimizationHints,MediaRouter",
]


def chromium_path() -> str | None:
    """Debian's Chromium (``apt-get install chromium``), or None."""
    found = os.environ.get("VIVRES_CHROMIUM") or shutil.which("chromium")
    if found:
        return found
    return next((p for p in CHROMIUM_PATHS if Path(p).exists()), None)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


START_CAP_S = 180.0


@contextmanager
def live_server(db_url: str, *, env: dict | None = None) -> Iterator[str]:
    """``vivres serve`` (HTTP + supervised job worker) on a free port; yields its base URL."""
    port = free_port()
    environ = {
        **os.environ,
        "VIVRES_RATE_LIMIT_PER_MIN": "0",  # one test browser sends bursts of static files
        **(env or {}),
    }
    command = [sys.executable, "-m", "api.cli", "serve", "--port", str(port), "--db", db_url]
    process = subprocess.Popen(
        command, env=environ, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
    )
    base = f"http://127.0.0.1:{port}"
    try:
        # a safety cap, not a speed check: on a busy 2-core machine (a test run beside other
        # work) starting the server and its job worker took more than 30 s
        deadline = time.monotonic() + START_CAP_S
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise RuntimeError(f"vivres serve exited: {process.stderr.read()[-2000:]}")
            try:
                with urllib.request.urlopen(f"{base}/v1/health", timeout=1) as r:
                    if r.status == 200:
                        break
            except OSError:
                time.sleep(0.1)
        else:
            raise RuntimeError(f"vivres serve did not answer within {START_CAP_S:g} s")
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@dataclass
class Guard:
    """Counts requests per host; everything not on 127.0.0.1 is aborted and listed."""

    local: int = 0
    blocked: list[str] = field(default_factory=list)
    bytes_in: int = 0
    console_errors: list[str] = field(default_factory=list)

    def route(self, route) -> None:
        url = route.request.url
        host = urlparse(url).hostname
        if url.startswith(("data:", "blob:", "about:")) or host == "127.0.0.1":
            self.local += 1
            route.continue_()
        else:
            self.blocked.append(url)
            route.abort()

    def on_console(self, message) -> None:
        if message.type == "error":
            self.console_errors.append(message.text)


def guarded_context(browser, guard: Guard, **options):
    """A browser context whose every request goes through ``guard``."""
    context = browser.new_context(locale="fr-FR", **options)
    context.route("**/*", guard.route)
    context.on("console", guard.on_console)
    return context


def run_axe(page) -> list[dict]:
    """axe-core's serious and critical violations on the page (injected through the
    DevTools protocol, so the page's CSP stays as served)."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.evaluate(AXE.read_text(encoding="utf-8") + "\n;0")
    result = page.evaluate(
        "async () => { const r = await axe.run(document, {resultTypes: ['violations']});"
        " return r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,"
        " nodes: v.nodes.slice(0, 3).map(n => n.target.join(' '))})); }"
    )
    return [v for v in result if v["impact"] in ("serious", "critical")]
