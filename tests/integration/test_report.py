"""The HTML report: built from a real warehouse, its numbers checked against the marts,
and opened in a real headless browser (Debian's chromium, installed by .ci/run)."""

from __future__ import annotations

import os
import re
import shutil
from html.parser import HTMLParser

import numpy as np
import pytest
from PIL import Image

from segmentation.serving.report import build_report
from tests.conftest import build_ok

pytestmark = pytest.mark.dbt

SECTIONS = (
    "summary",
    "elbow",
    "reducers",
    "scatter",
    "segments",
    "distributions",
    "cards",
    "reasons",
    "atypical",
    "drift",
    "moves",
    "exploration",
    "transitions",
)
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


class Page(HTMLParser):
    """Section ids, image sources and the text of elements with an id."""

    def __init__(self) -> None:
        super().__init__()
        self.ids: list[str] = []
        self.images: list[str] = []
        self.tags: set[str] = set()
        self.text_by_id: dict[str, str] = {}
        self._open: list[str | None] = []

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        self.tags.add(tag)
        if tag == "img":
            self.images.append(attributes.get("src", ""))
            return
        self._open.append(attributes.get("id"))
        if attributes.get("id"):
            self.ids.append(attributes["id"])
            self.text_by_id[attributes["id"]] = ""

    def handle_endtag(self, tag):
        if tag != "img" and self._open:
            self._open.pop()

    def handle_data(self, data):
        for element_id in filter(None, self._open):
            self.text_by_id[element_id] += data


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    """Two model versions on the demo data (the second with another seed), then the report."""
    workdir = tmp_path_factory.mktemp("report")
    build_ok(workdir)
    run = build_ok(workdir, {"random_seed": 7, "compare_reducers": False})
    path = build_report(run.database, workdir / "reports")
    page = Page()
    page.feed(path.read_text(encoding="utf-8"))
    return run, path, page


def test_every_section_is_there_and_self_contained(report):
    _, path, page = report
    assert [section for section in SECTIONS if section not in page.ids] == []
    text = path.read_text(encoding="utf-8")
    assert "<script" not in text and "<link" not in text and not re.search(r"(src|href)=\"https?:", text)
    assert len(page.images) == 8 and all(src.startswith("data:image/png;base64,") for src in page.images)
    figures = sorted(p.name for p in (path.parent / "figures").glob("*.png"))
    assert figures == sorted(
        f"{name}.png"
        for name in (
            "elbow",
            "reducers",
            "scatter",
            "segment_sizes",
            "profile_heatmap",
            "distributions",
            "correlations",
            "drift",
        )
    )


def test_numbers_match_the_marts(report):
    run, _, page = report
    segments = run.query("select * from dim_segments order by segment_id")
    for row in segments.itertuples():
        card = page.text_by_id[f"segment-{row.segment_id}"]
        assert row.segment_name in card and row.campaign in card
        assert f"{row.customer_count:,} customers" in card
    facts = page.text_by_id["facts"]
    assert f"{run.scalar('select count(*) from dim_customers'):,}" in facts
    assert f"model version{run.scalar('select max(model_version) from segmentation_models')}" in facts
    assert page.text_by_id["selected-k"] == str(run.scalar("select k from segment_elbow where is_selected"))
    kept = run.scalar(
        "select sum(customer_count) filter (where from_segment_id = to_segment_id) / sum(customer_count)"
        " from segment_transitions"
    )
    assert page.text_by_id["kept-share"] == f"{kept:.1%}"
    atypical = run.scalar("select count(*) from dim_customers where is_atypical")
    assert atypical > 0 and page.text_by_id["atypical-count"] == f"{atypical:,}"
    build = run.scalar("select build_id from publish_log order by published_at desc limit 1")
    moved = run.scalar(f"select count(*) from customer_segment_moves where build_id = '{build}'")
    assert page.text_by_id.get("moved-count", "0") == f"{moved:,}"
    summary_rows = run.scalar("select count(*) from rpt_feature_summary")
    assert (
        page.text_by_id["feature-summary"].count("clustering feature")
        + page.text_by_id["feature-summary"].count("raw column")
        == summary_rows
    )


def test_the_report_opens_in_a_real_browser_without_errors(report, tmp_path):
    if CHROMIUM is None:
        if os.environ.get("CI"):
            pytest.fail("chromium is not installed: .ci/run should have installed it")
        pytest.skip("chromium is not installed here (apt-get install chromium); CI installs it")
    from playwright.sync_api import sync_playwright

    _, path, _ = report
    screenshot = tmp_path / "report.png"
    messages: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        browser_page = browser.new_page(viewport={"width": 1280, "height": 900})
        browser_page.on("console", lambda message: messages.append(message.text) if message.type == "error" else None)
        browser_page.on("pageerror", lambda error: messages.append(str(error)))
        browser_page.goto(path.as_uri(), wait_until="load")
        widths = browser_page.evaluate("[...document.images].map(image => image.naturalWidth)")
        browser_page.screenshot(path=str(screenshot), full_page=True)
        browser.close()
    assert messages == []
    assert len(widths) == 8 and min(widths) > 300  # every figure decoded
    image = Image.open(screenshot).convert("L")
    assert image.size[0] == 1280 and image.size[1] > 4000
    pixels = np.asarray(image, dtype=float)
    assert (pixels < 200).mean() > 0.05  # ink on the page, not a blank screen
    assert pixels.std() > 30
