"""Bombs against a running ``vivres serve``: each must be refused fast with bounded memory.

Starts the server (one HTTP worker, no job worker) on a fresh SQLite database, uploads the
tiny territory, then sends:

- ``gzip_1gb_orders``: a ~1 MB gzip body of order lines that expands to 1 GiB;
- ``gzip_1gb_zeros``: the same size of zeros, without a single line break;
- ``zip_15m_lines``: a territory zip whose orders.csv holds 15 M lines;
- ``csv_20000_columns``: an orders append with 20,000 extra columns.

For each it prints the status, the seconds until the answer and the peak RSS of the HTTP
server's processes (sampled every 10 ms while the request runs). The bar (issue 11): every
bomb refused with a 4xx problem+json within 5 s, RSS under 1 GB. Run with
``vivres bench robustness [--json FILE]`` or ``python benchmarks/robustness_bench.py``.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
import zipfile
import zlib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TINY = ROOT / "tests" / "data" / "tiny"
HEADER = b"date,site_id,product_id,quantity,unit,unit_price_eur\n"
LINE = b"2025-01-08,S1,carotte,12,kg,2.5\n"
BAR_S, BAR_RSS_MB = 5.0, 1024.0

sys.path.insert(0, str(ROOT / "benchmarks"))
from api_bench import _free_port, _memory  # noqa: E402


def _gzip_of(unit: bytes, total: int, header: bytes = b"") -> bytes:
    """A gzip stream of ``header`` then ``unit`` repeated up to ``total`` bytes."""
    deflate = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    block = unit * max(1, (1 << 20) // len(unit))
    parts, written = [deflate.compress(header)], len(header)
    while written < total:
        parts.append(deflate.compress(block))
        written += len(block)
    parts.append(deflate.flush())
    return b"".join(parts)


def _zip_of_lines(num_lines: int) -> bytes:
    """The tiny territory zipped, its orders.csv replaced by ``num_lines`` order lines."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        for path in sorted(TINY.glob("*.csv")):
            if path.name != "orders.csv":
                archive.write(path, path.name)
        with archive.open("orders.csv", "w", force_zip64=True) as member:
            member.write(HEADER)
            block = LINE * 100_000
            for _ in range(num_lines // 100_000):
                member.write(block)
    return buffer.getvalue()


def _wide_csv(num_columns: int) -> bytes:
    extra = b",".join(b"x%d" % i for i in range(num_columns))
    return (
        HEADER.rstrip(b"\n")
        + b","
        + extra
        + b"\n"
        + LINE.rstrip(b"\n")
        + b","
        + b"," * (num_columns - 1)
        + b"\n"
    )


class _Peak(threading.Thread):
    """Sample the server's RSS until stopped; keep the maximum."""

    def __init__(self, pid: int):
        super().__init__(daemon=True)
        self.pid, self.peak_mb, self.done = pid, 0.0, threading.Event()

    def run(self) -> None:
        while not self.done.is_set():
            self.peak_mb = max(self.peak_mb, _memory(self.pid)["server_rss_mb"])
            time.sleep(0.01)


def run(*, console=None) -> dict:
    """Run every bomb; return the figures (also printed)."""
    import httpx

    from api.store.db import Store
    from api.store.keys import create_key

    say = console.print if console is not None else print
    tmp = Path(tempfile.mkdtemp(prefix="vivres-bench-robust-"))
    url = f"sqlite:///{tmp / 'bench.db'}"
    store = Store.open(url)
    token, _ = create_key(store, "planner", name="bench", all_territories=True)
    store.engine.dispose()
    say("building the bombs")
    bombs = {
        "gzip_1gb_orders": (
            "POST",
            "/v1/territories/tiny/orders",
            "application/gzip",
            _gzip_of(LINE, 1 << 30, HEADER),
            1 << 30,
        ),
        "gzip_1gb_zeros": (
            "POST",
            "/v1/territories/tiny/orders",
            "application/gzip",
            _gzip_of(b"0", 1 << 30),
            1 << 30,
        ),
        "zip_15m_lines": (
            "PUT",
            "/v1/territories/bomb",
            "application/zip",
            _zip_of_lines(15_000_000),
            15_000_000 * len(LINE),
        ),
        "csv_20000_columns": (
            "POST",
            "/v1/territories/tiny/orders",
            "text/csv",
            _wide_csv(20_000),
            None,
        ),
    }
    port = _free_port()
    log = (tmp / "serve.log").open("w")
    server = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "from api.cli import entry_point; entry_point()",
            "serve",
            "--port",
            str(port),
            "--db",
            url,
            "--workers",
            "1",
            "--no-job-worker",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
        cwd=tmp,
    )
    figures: dict = {"bar_s": BAR_S, "bar_rss_mb": BAR_RSS_MB, "bombs": {}}
    try:
        client = httpx.Client(
            base_url=f"http://127.0.0.1:{port}",
            timeout=120,
            headers={"Authorization": f"Bearer {token}"},
        )
        deadline = time.monotonic() + 90
        while True:
            try:
                if client.get("/v1/health").status_code == 200:
                    break
            except httpx.TransportError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise RuntimeError(f"vivres serve did not start; see {tmp}/serve.log") from None
                time.sleep(0.2)
        files = {p.stem: (p.name, p.read_bytes(), "text/csv") for p in TINY.glob("*.csv")}
        client.put("/v1/territories/tiny", files=files).raise_for_status()
        figures["idle_rss_mb"] = _memory(server.pid)["server_rss_mb"]
        for name, (method, path, media, body, expands_to) in bombs.items():
            peak = _Peak(server.pid)
            peak.start()
            started = time.perf_counter()
            r = client.request(method, path, content=body, headers={"Content-Type": media})
            seconds = time.perf_counter() - started
            peak.done.set()
            peak.join()
            ok = (
                400 <= r.status_code < 500
                and seconds < BAR_S
                and peak.peak_mb < BAR_RSS_MB
                and r.headers.get("content-type", "").startswith("application/problem+json")
            )
            figures["bombs"][name] = {
                "body_bytes": len(body),
                "expands_to_bytes": expands_to,
                "status": r.status_code,
                "seconds": round(seconds, 2),
                "server_rss_peak_mb": round(peak.peak_mb, 1),
                "meets_bar": ok,
                "detail": r.json().get("detail", "")[:120] if r.content else "",
            }
        figures["health_after"] = client.get("/v1/health").status_code
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
        log.close()
    say(
        f"{'bomb':<20} {'body':>9} {'expands to':>11} {'status':>6} {'s':>6} "
        f"{'RSS peak MB':>12}  bar"
    )
    for name, f in figures["bombs"].items():
        expands = f"{f['expands_to_bytes'] / 2**20:,.0f} MiB" if f["expands_to_bytes"] else "-"
        say(
            f"{name:<20} {f['body_bytes'] / 2**20:>7.2f}MB {expands:>11} {f['status']:>6} "
            f"{f['seconds']:>6.2f} {f['server_rss_peak_mb']:>12.1f}  "
            f"{'ok' if f['meets_bar'] else 'FAILED'}"
        )
    say(f"server RSS idle {figures['idle_rss_mb']} MB; /v1/health after: {figures['health_after']}")
    return figures


def main(argv: list[str] | None = None) -> int:
    """``python benchmarks/robustness_bench.py [--json FILE]``."""
    argv = sys.argv[1:] if argv is None else argv
    figures = run()
    if argv[:1] == ["--json"] and len(argv) > 1:
        Path(argv[1]).write_text(json.dumps(figures, indent=2))
    return 0 if all(f["meets_bar"] for f in figures["bombs"].values()) else 1


if __name__ == "__main__":
    sys.exit(main())
