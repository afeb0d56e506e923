"""The README and the docs/ pages: the README stays short and links every page, links
resolve, and every make target and Python module the docs mention exists."""

from __future__ import annotations

import re
from importlib.util import find_spec

from tests.conftest import REPO_ROOT

DOCS = REPO_ROOT / "docs"
PAGES = sorted(DOCS.glob("*.md"))


def test_the_readme_is_short_and_links_every_page():
    readme = (REPO_ROOT / "README.md").read_text()
    assert len(readme.splitlines()) <= 100, "README.md should fit on about two screens: move detail to docs/"
    assert "make run" in readme and "make test" in readme
    unlinked = [page.name for page in PAGES if f"docs/{page.name}" not in readme]
    assert not unlinked, f"docs pages not linked from README.md: {unlinked}"


def test_relative_links_resolve():
    broken = []
    for path in [REPO_ROOT / "README.md", *PAGES]:
        for target in re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", path.read_text()):
            if not target.startswith(("http://", "https://", "mailto:")) and not (path.parent / target).exists():
                broken.append(f"{path.relative_to(REPO_ROOT)} -> {target}")
    assert not broken, "\n".join(broken)


def test_every_make_target_and_module_in_the_docs_exists():
    makefile = (REPO_ROOT / "Makefile").read_text()
    targets = set(re.findall(r"^([\w-]+):", makefile, flags=re.MULTILINE))
    text = "\n".join(path.read_text() for path in [REPO_ROOT / "README.md", *PAGES])
    missing = sorted({target for target in re.findall(r"\bmake ([a-z][\w-]*)", text) if target not in targets})
    assert not missing, f"make targets mentioned in the docs but not in the Makefile: {missing}"
    modules = set(re.findall(r"python -m ((?:segmentation|benchmarks)(?:\.\w+)+)", text))
    assert modules, "no module found: the pattern is stale"
    absent = sorted(module for module in modules if find_spec(module) is None)
    assert not absent, f"modules mentioned in the docs that do not exist: {absent}"


def test_the_dbt_docs_overview_gives_the_same_tour():
    overview = (REPO_ROOT / "models" / "_docs.md").read_text()
    assert "{% docs __overview__ %}" in overview
    for needed in ("dim_customers", "dim_segments", "fct_campaign_audience", "mf query", "make run", "make test"):
        assert needed in overview, needed
