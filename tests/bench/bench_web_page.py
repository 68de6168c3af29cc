"""Bytes loaded and time to first paint: Maple's page (/) against the engine's /docs, same run.

    .venv/bin/python tests/bench/bench_web_page.py [--url http://127.0.0.1:7860] [--runs 5]

Without --url it starts an engine on a free port with a temporary home (the demo model).
A third column loads one plain text file from the same server: the floor this browser and
machine set for a paint. Each load uses a fresh browser context (empty cache). Requests to other hosts are refused at once,
as on a machine with no internet (FastAPI's /docs asks a CDN for Swagger UI's files).
"""

from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from scripts.web_screenshots import ARGS, CHROMIUM, engine  # noqa: E402

PAINT_JS = """() => new Promise(done => {
  const pick = () => {
    const e = performance.getEntriesByType('paint');
    const get = n => (e.find(x => x.name === n) || {}).startTime ?? null;
    if (get('first-contentful-paint') !== null) done({fp: get('first-paint'), fcp: get('first-contentful-paint')});
    else setTimeout(pick, 20);
  };
  pick();
  setTimeout(() => done({fp: null, fcp: null}), 5000);
})"""


def load_once(browser: Any, url: str, ready_selector: str | None) -> dict[str, Any]:
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    cdp = context.new_cdp_session(page)
    cdp.send("Network.enable")
    sizes: dict[str, int] = {}
    failed: list[str] = []
    urls: dict[str, str] = {}
    cdp.on("Network.requestWillBeSent", lambda e: urls.__setitem__(e["requestId"], e["request"]["url"]))
    cdp.on("Network.loadingFinished", lambda e: sizes.__setitem__(e["requestId"], int(e["encodedDataLength"])))
    cdp.on("Network.loadingFailed", lambda e: failed.append(e["requestId"]))
    host = url.split("/")[2]
    page.route("**/*", lambda route: route.continue_() if route.request.url.split("/")[2] == host else route.abort())
    page.goto(url, wait_until="load")
    if ready_selector:
        page.wait_for_selector(ready_selector, timeout=60_000)
    page.wait_for_load_state("networkidle")
    paint = page.evaluate(PAINT_JS)
    nav = page.evaluate("() => performance.getEntriesByType('navigation')[0].loadEventEnd")
    context.close()
    api = sum(n for rid, n in sizes.items() if "/sdapi/" in urls.get(rid, "") or "/maple/" in urls.get(rid, ""))
    return {"bytes": sum(sizes.values()), "api_bytes": api, "requests": len(sizes), "failed": len(failed),
            "fp": paint["fp"], "fcp": paint["fcp"], "load": nav}


def median(runs: list[dict[str, Any]], key: str) -> float | None:
    values = [r[key] for r in runs if r[key] is not None]
    return statistics.median(values) if values else None


def fmt(v: float | None, unit: str) -> str:
    return "n/a" if v is None else f"{v:,.0f} {unit}" if unit == "B" else f"{v:.0f} {unit}"


def measure(url: str, runs: int) -> int:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        load_once(browser, url + "/", "body[data-ready]")  # warm the server's caches
        maple = [load_once(browser, url + "/", "body[data-ready]") for _ in range(runs)]
        docs = [load_once(browser, url + "/docs", None) for _ in range(runs)]
        floor = [load_once(browser, url + "/web/dom.js", None) for _ in range(runs)]
        browser.close()
    print(f"{'median of ' + str(runs):<26}{'Maple page /':>16}{'/docs':>16}{'ratio':>9}{'plain file':>14}")
    for key, label, unit in (("bytes", "bytes loaded", "B"), ("api_bytes", "  of which API answers", "B"),
                             ("requests", "requests", ""), ("failed", "failed requests", ""),
                             ("fp", "first paint", "ms"), ("fcp", "first contentful paint", "ms"), ("load", "load event", "ms")):
        a, b = median(maple, key), median(docs, key)
        ratio = f"{a / b:.2f}x" if a is not None and b else "-"
        fa = fmt(a, unit) if unit else str(a)
        fb = fmt(b, unit) if unit else str(b)
        fc = fmt(median(floor, key), unit) if unit else str(median(floor, key))
        print(f"{label:<26}{fa:>16}{fb:>16}{ratio:>9}{fc:>14}")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--url")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    if args.url:
        return measure(args.url.rstrip("/"), args.runs)
    with engine() as url:
        return measure(url, args.runs)


if __name__ == "__main__":
    raise SystemExit(main())
