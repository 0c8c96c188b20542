"""The built docs site in headless Chromium: every page loads, no internal link is broken, and the
API reference lists every operation of endpoints.tsv.

The site is built with ``mkdocs build --strict`` and served from a loopback aiohttp server; the
browser crawls every page reachable from the home page, collecting each page's links (``<a href>``,
as the browser resolves them) and element ids, so a link to a missing page or a missing ``#anchor``
is caught, also when the page exists.
"""

from __future__ import annotations

import asyncio
import csv
import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urldefrag, urlsplit

import pytest
from aiohttp import ClientSession, web

from ._chromium import Chromium

ROOT = Path(__file__).resolve().parent.parent
with (ROOT / "scripts" / "openapi" / "endpoints.tsv").open(newline="", encoding="utf-8") as _f:
    CALLS = sorted(row["sdk_call"] for row in csv.DictReader(_f, delimiter="\t"))
TABS = 4

# What each page reports: its heading, its links (absolute URLs) and the ids of its elements.
_PAGE_FACTS = """JSON.stringify({
  h1: (document.querySelector('article h1') || {}).textContent || null,
  links: [...document.querySelectorAll('a[href]')].map(a => a.href),
  ids: [...document.querySelectorAll('[id]')].map(e => e.id),
  operations: [...document.querySelectorAll('article h3[id^="client."]')].map(e => e.id),
})"""


@dataclass(frozen=True, slots=True)
class Page:
    url: str
    h1: str | None
    links: list[str]
    ids: set[str]
    operations: list[str]


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    site_dir = tmp_path_factory.mktemp("docs-site") / "site"
    proc = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "-q", "-f", "docs/mkdocs.yml", "-d", str(site_dir)],
        cwd=ROOT,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return site_dir


def _static(site_dir: Path) -> web.Application:
    """The site as a static web server would serve it: a directory answers with its index.html."""
    files = {path.relative_to(site_dir).as_posix(): path for path in site_dir.rglob("*") if path.is_file()}
    files |= {key.removesuffix("index.html"): path for key, path in files.items() if key.endswith("index.html")}

    async def serve(request: web.Request) -> web.StreamResponse:
        path = files.get(request.match_info["path"])
        if path is None:
            raise web.HTTPNotFound()
        return web.FileResponse(path)

    app = web.Application()
    app.router.add_get("/{path:.*}", serve)
    return app


async def _facts(browser: Chromium, url: str) -> Page:
    tab = await browser.open(url)
    try:
        await tab.wait_for(f"location.href === {json.dumps(url)} && document.readyState === 'complete'")
        facts = json.loads(await tab.evaluate(_PAGE_FACTS))
    finally:
        await tab.close()
    return Page(url, facts["h1"], facts["links"], set(facts["ids"]), facts["operations"])


async def _crawl(browser: Chromium, base_url: str) -> dict[str, Page]:
    """Every HTML page reachable from the home page by internal links, as the browser renders it (a few tabs
    at a time)."""
    pages: dict[str, Page] = {}
    queue = [base_url]
    while queue:
        batch, queue = queue[:TABS], queue[TABS:]
        for page in await asyncio.gather(*(_facts(browser, url) for url in batch)):
            pages[page.url] = page
            for link in page.links:
                target, _ = urldefrag(link)
                internal = target.startswith(base_url) and target.endswith(("/", ".html"))
                if internal and target not in pages and target not in queue and target not in batch:
                    queue.append(target)
    return pages


async def _browse(site_dir: Path) -> tuple[str, dict[str, Page], dict[str, int]]:
    """Serve the site, crawl it, and fetch every other internal target: (base URL, pages, status by URL)."""
    runner = web.AppRunner(_static(site_dir))
    await runner.setup()
    try:
        tcp = web.TCPSite(runner, "127.0.0.1", 0)
        await tcp.start()
        host, port = runner.addresses[0][:2]
        base_url = f"http://{host}:{port}/"
        async with Chromium() as browser:
            pages = await _crawl(browser, base_url)
        others = {urldefrag(link)[0] for page in pages.values() for link in page.links} - set(pages)
        statuses: dict[str, int] = {}
        async with ClientSession() as session:
            for url in sorted(u for u in others if u.startswith(base_url)):
                async with session.get(url) as response:
                    statuses[url] = response.status
        return base_url, pages, statuses
    finally:
        await runner.cleanup()


@dataclass(frozen=True, slots=True)
class Crawl:
    base_url: str
    pages: dict[str, Page]
    statuses: dict[str, int]


@pytest.fixture(scope="module")
def crawl(site: Path) -> Crawl:
    return Crawl(*asyncio.run(_browse(site)))


def test_every_page_of_the_navigation_loads(crawl: Crawl) -> None:
    sections = ["", "quickstart/", "tool-calling/", "audio/", "assistants/", "reference/client/"]
    sections += ["reference/api/", "reference/api/chat/", "reference/api/assistants/", "testing/"]
    for section in sections:
        assert crawl.base_url + section in crawl.pages, f"{section} is not reachable from the home page"
    untitled = [url for url, page in crawl.pages.items() if not page.h1]
    assert not untitled, f"pages without a heading: {untitled}"
    assert len(crawl.pages) >= 30


def test_no_internal_link_is_broken(crawl: Crawl) -> None:
    broken: list[str] = []
    for page in crawl.pages.values():
        for link in page.links:
            target, anchor = urldefrag(link)
            if not target.startswith(crawl.base_url):
                continue
            if target in crawl.pages:
                if anchor and anchor not in crawl.pages[target].ids:
                    broken.append(f"{page.url} -> {link} (no such anchor)")
            elif crawl.statuses[target] != 200:
                broken.append(f"{page.url} -> {link} ({crawl.statuses[target]})")
    assert not broken, "\n".join(broken)
    assert sum(len(page.links) for page in crawl.pages.values()) > 1000  # the crawl saw the links


def test_the_reference_lists_every_operation_once(crawl: Crawl) -> None:
    listed = [
        op
        for url, page in crawl.pages.items()
        if urlsplit(url).path.startswith("/reference/api/")
        for op in page.operations
    ]
    assert sorted(listed) == CALLS
