"""Browser fixtures: a live server over real HTTP and Debian's Chromium through Playwright."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from conftest import ROOT, require

ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]


@pytest.fixture(scope="session")
def browser():
    executable = shutil.which("chromium")
    require(executable is not None, "Debian's chromium (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.hookimpl(tryfirst=True, hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"report_{report.when}", report)


@pytest.fixture
def page(browser, request):
    """A fresh browser context and page; a failing test leaves a screenshot behind."""
    context = browser.new_context()
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    report = getattr(request.node, "report_call", None)
    if report is not None and report.failed:
        ARTIFACTS.mkdir(exist_ok=True)
        path = ARTIFACTS / f"{request.node.name}.png"
        page.screenshot(path=str(path), full_page=True)
        print(f"screenshot saved: {Path(path).relative_to(ROOT)}")
    context.close()


def log_in(page, base: str, email: str, password: str) -> None:
    """Log in through the form, as a person would."""
    page.goto(f"{base}/login")
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{base}/topics")


VENDOR = Path(__file__).with_name("vendor")
PHONE = {"width": 375, "height": 740}
DESKTOP = {"width": 1280, "height": 900}


@pytest.fixture(scope="session")
def axe_path() -> Path:
    """axe-core, fetched once from the npm registry (pinned, integrity-checked) like htmx."""
    from webapp.assets import AXE, AssetError, install

    try:
        return install(AXE, VENDOR)
    except AssetError as exc:
        require(False, f"axe-core from the npm registry ({exc})")


def axe_violations(page, axe_path: Path, impacts=("serious", "critical")) -> list[dict]:
    """Run axe-core on the page as it is now; the violations of the given impacts."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        # Not add_script_tag: it inserts an inline <script>, which the app's CSP
        # (script-src 'self') rightly refuses. DevTools evaluation is not subject to the CSP,
        # so the page keeps its real policy while axe runs.
        page.evaluate(axe_path.read_text(encoding="utf-8"))
    # A colour caught halfway through its CSS transition (Pico fades link colours in
    # 0.2 s) is one nobody reads: axe judged a menu link opened a moment before, on a
    # busy CI machine. The page's finite animations are waited for first.
    page.evaluate("Promise.all(document.getAnimations()"
                  ".filter(a => a.effect && a.effect.getComputedTiming().endTime !== Infinity)"
                  ".map(a => a.finished.catch(() => null)))")
    result = page.evaluate("axe.run(document, {resultTypes: ['violations']})")
    return [v for v in result["violations"] if v["impact"] in impacts]


def describe_violations(violations: list[dict]) -> str:
    """One readable paragraph per violation: rule, impact, help and the offending nodes."""
    lines = []
    for v in violations:
        lines.append(f"{v['id']} ({v['impact']}): {v['help']} — {v['helpUrl']}")
        for node in v["nodes"][:5]:
            lines.append(f"    {' '.join(map(str, node['target']))}: {node['html'][:160]}")
            if node.get("failureSummary"):
                lines.append("      " + node["failureSummary"].replace("\n", "\n      "))
    return "\n".join(lines)


def assert_accessible(page, axe_path: Path) -> None:
    """Fail with a readable list when axe-core finds a serious or critical violation."""
    violations = axe_violations(page, axe_path)
    assert not violations, f"{page.url}:\n{describe_violations(violations)}"


def assert_fits(page) -> None:
    """Nothing sticks out sideways: the page never scrolls horizontally."""
    widths = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    if widths[0] > widths[1]:
        wide = page.evaluate("""() => [...document.querySelectorAll('body *')]
            .filter(e => e.getBoundingClientRect().right > window.innerWidth + 0.5)
            .slice(0, 8).map(e => e.tagName.toLowerCase() + (e.id ? '#' + e.id : '') +
                 (e.className && typeof e.className === 'string' ? '.' + e.className.split(' ').join('.') : '') +
                 ' right=' + Math.round(e.getBoundingClientRect().right))""")
        raise AssertionError(f"{page.url}: {widths[0]} px wide in a {widths[1]} px window; sticking out: {wide}")
