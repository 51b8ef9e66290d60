"""Web pages benchmark: the map page of the sample week, the plan calendar and the real
week's allocation page (shortage week 2025-W50, 40 shops) in Chromium.

Loads the sample territory into a fresh SQLite database, solves its plan (``plan_work``), the
routes of ``week`` and the real week 2025-W50 in-process, starts ``vivres serve`` on a
loopback port, then opens each page ``loads`` times in a fresh browser context (cold cache)
with Debian's Chromium driven by Playwright, every request off 127.0.0.1 blocked and
counted. Per page: time to first contentful paint and to interactive (the latest of the load
event, the first contentful paint and, for the map, its routes drawn:
``#map[data-ready]``), p50/p95, bytes transferred (resource timing ``transferSize``),
requests made, JS heap used. Run::

    vivres bench web --json out/bench_web.json
"""

from __future__ import annotations

import importlib.util
import statistics
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SAMPLE = REPO / "data" / "sample"
LIVE = REPO / "tests" / "web" / "web_live.py"

MEASURE = """async (selector) => {
  if (selector) {
    await new Promise((done) => {
      const el = document.querySelector(selector);
      if (el.getAttribute('data-ready')) return done();
      new MutationObserver((_, obs) => {
        if (el.getAttribute('data-ready')) { obs.disconnect(); done(); }
      }).observe(el, {attributes: true});
    });
  }
  const nav = performance.getEntriesByType('navigation')[0];
  const paint = performance.getEntriesByName('first-contentful-paint')[0];
  const el = selector ? document.querySelector(selector) : null;
  const ready = el ? Number(el.getAttribute('data-ready-ms')) : 0;
  const resources = performance.getEntriesByType('resource');
  return {
    fcp_ms: paint ? paint.startTime : null,
    tti_ms: Math.max(nav.loadEventEnd, ready, paint ? paint.startTime : 0),
    bytes: nav.transferSize + resources.reduce((s, r) => s + r.transferSize, 0),
    heap_bytes: performance.memory ? performance.memory.usedJSHeapSize : null,
  };
}"""


def _live():
    if not LIVE.exists():
        raise RuntimeError(f"{LIVE} not found: the benchmark runs from a source checkout")
    spec = importlib.util.spec_from_file_location("web_live", LIVE)
    module = importlib.util.module_from_spec(spec)
    sys.modules["web_live"] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def _prepare(db_url: str, *, week: int, plan_work: float) -> dict:
    from api import jobs
    from api.store import territories as store_t
    from api.store.db import Store
    from api.store.keys import create_key

    store = Store.open(db_url)
    uploads = [
        store_t.Upload(table=p.stem, content=p.read_bytes(), format="csv")
        for p in sorted(SAMPLE.glob("*.csv"))
    ]
    store_t.put_territory(store, "sample", uploads)
    ids = {}
    for kind, params in (
        ("plan", {"work": plan_work}),
        ("routes", {"week": week}),
        # the sample's shortage week, shared fairly: the allocation page's 40 shops
        ("week", {"week": "2025-W50", "week_start": "2025-12-08"}),
    ):
        if kind in ("routes", "week"):
            params["plan_job_id"] = ids["plan"]
        job = jobs.submit(store, "sample", kind, params)
        jobs.claim_next(store, "bench:0")
        status = jobs.execute(store, job.job_id)
        if status != "succeeded":
            raise RuntimeError(f"{kind} job {status}: {jobs.get_job(store, job.job_id).error}")
        ids[kind] = job.job_id
    token, _ = create_key(store, "planner", territories=["sample"])
    store.engine.dispose()
    return {"token": token, **ids}


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def run(*, loads: int = 20, week: int = 1, plan_work: float = 0.1, console=None) -> dict:
    """Measure the pages; return ``{"pages": [...]}`` (and print a table)."""
    from playwright.sync_api import sync_playwright

    live = _live()
    chromium = live.chromium_path()
    if chromium is None:
        raise RuntimeError("no chromium: apt-get install chromium")
    with tempfile.TemporaryDirectory(prefix="vivres-bench-web-") as tmp:
        db_url = f"sqlite:///{Path(tmp) / 'vivres.db'}"
        if console:
            console.print("solving the sample plan and week (in-process)…")
        ids = _prepare(db_url, week=week, plan_work=plan_work)
        pages = {
            "map": (f"/t/sample/tournees/{ids['routes']}", "#map"),
            "plan_calendar": (f"/t/sample/plan?job={ids['plan']}", None),
            "week_allocation": (f"/t/sample/semaine/{ids['week']}", None),
        }
        out = []
        with live.live_server(db_url) as base, sync_playwright() as p:
            browser = p.chromium.launch(executable_path=chromium, args=live.CHROMIUM_ARGS)
            for name, (url, selector) in pages.items():
                samples = []
                blocked = 0
                for _ in range(loads):
                    guard = live.Guard()
                    context = live.guarded_context(
                        browser, guard, viewport={"width": 1280, "height": 800}
                    )
                    page = context.new_page()
                    page.goto(f"{base}/connexion")
                    page.fill("#key", ids["token"])
                    page.click("button[type=submit]")
                    page.wait_for_load_state()
                    guard.local = 0
                    page.goto(base + url)
                    figures = page.evaluate(MEASURE, selector)
                    figures["requests"] = guard.local
                    samples.append(figures)
                    blocked += len(guard.blocked)
                    context.close()
                tti = [s["tti_ms"] for s in samples]
                fcp = [s["fcp_ms"] for s in samples if s["fcp_ms"] is not None]
                out.append(
                    {
                        "page": name,
                        "url": url,
                        "loads": loads,
                        "p50_ms": round(statistics.median(tti), 1),
                        "p95_ms": round(_pct(tti, 0.95), 1),
                        "fcp_p50_ms": round(statistics.median(fcp), 1) if fcp else None,
                        "fcp_p95_ms": round(_pct(fcp, 0.95), 1) if fcp else None,
                        "bytes": int(statistics.median(s["bytes"] for s in samples)),
                        "requests": int(statistics.median(s["requests"] for s in samples)),
                        "heap_bytes": samples[-1]["heap_bytes"],
                        "blocked_requests": blocked,
                    }
                )
            browser.close()
    if console:
        from rich.table import Table

        table = Table("page", "TTI p50 ms", "TTI p95 ms", "FCP p50 ms", "KB", "requests", "heap MB")
        for r in out:
            table.add_row(
                r["page"],
                f"{r['p50_ms']:.0f}",
                f"{r['p95_ms']:.0f}",
                f"{r['fcp_p50_ms'] or 0:.0f}",
                f"{r['bytes'] / 1024:.0f}",
                str(r["requests"]),
                f"{(r['heap_bytes'] or 0) / 2**20:.1f}",
            )
        console.print(table)
    return {"pages": out, "week": week, "plan_work": plan_work}
