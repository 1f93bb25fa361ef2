"""The dashboard in a real headless Chromium (Debian's chromium + chromium-driver, driven by
Selenium through the system driver /usr/bin/chromedriver), served by uvicorn on loopback.

Signs in, opens runs -> run -> requirement, downloads an artifact and checks its digest,
compares two runs, signs out; an XSS payload shows as text; a viewer cannot reach admin pages;
the run's framework coverage drills down to a requirement; the browser reports no
Content-Security-Policy violation. Screenshots of the main pages are saved as test artifacts in
``$GOLIVE_TEST_ARTIFACTS/dashboard`` (default ``<tmp>/test-artifacts/dashboard``), among them
``dashboard-run.png`` and ``dashboard-requirement.png``, the README tour's pictures (copy them to
docs/images when the pages change). Skipped when chromium is not installed, unless
GOLIVE_TEST_BROWSER=required (set by .ci/run, which installs it).
"""
from __future__ import annotations

import hashlib
import os
import shutil
import socket
import tempfile
import threading
import time
from pathlib import Path

import pytest

import servehelpers as h

CHROMIUM, DRIVER = shutil.which("chromium") or "/usr/bin/chromium", "/usr/bin/chromedriver"
HAVE_BROWSER = Path(CHROMIUM).exists() and Path(DRIVER).exists()
if not HAVE_BROWSER and os.environ.get("GOLIVE_TEST_BROWSER") == "required":
    raise RuntimeError(f"GOLIVE_TEST_BROWSER=required but {CHROMIUM} or {DRIVER} is missing: "
                       "apt-get install chromium chromium-driver")
ARTIFACTS = Path(os.environ.get("GOLIVE_TEST_ARTIFACTS") or Path(tempfile.gettempdir()) / "test-artifacts") / "dashboard"
README_SIZE = (1280, 1260)  # the README tour's pictures (docs/images/dashboard-*.png)
pytestmark = [pytest.mark.skipif(not HAVE_BROWSER, reason="chromium and chromium-driver are not installed"),
              pytest.mark.filterwarnings("ignore::DeprecationWarning")]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    import uvicorn

    from golive.ledger.store import Store
    from golive.serve.app import create_app

    built = h.build(tmp_path_factory.mktemp("browser-store"))
    store = Store(built.path)
    port = _free_port()
    srv = uvicorn.Server(uvicorn.Config(create_app(store, secret_key="b" * 40), host="127.0.0.1", port=port,
                                        log_level="warning"))
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 60  # a loaded CI machine starts slowly
    while not srv.started and thread.is_alive() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert srv.started, f"uvicorn did not start on port {port} (thread alive: {thread.is_alive()})"
    yield built, store, f"http://127.0.0.1:{port}"
    srv.should_exit = True
    thread.join(timeout=10)
    store.close()


@pytest.fixture
def browser(tmp_path):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1400,1000",
                "--disable-gpu"):
        options.add_argument(arg)
    downloads = tmp_path / "downloads"
    downloads.mkdir()
    options.add_experimental_option("prefs", {"download.default_directory": str(downloads),
                                              "download.prompt_for_download": False})
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(DRIVER), options=options)
    driver.set_page_load_timeout(60)
    driver.downloads = downloads
    yield driver
    driver.quit()


def click_and_wait(driver, element, url_part: str) -> None:
    """Click a link or button and wait until the browser shows a page whose URL has ``url_part``
    (a click returns before the next page has loaded)."""
    from selenium.webdriver.support import expected_conditions as EC
    from selenium.webdriver.support.ui import WebDriverWait

    element.click()
    WebDriverWait(driver, 30).until(EC.staleness_of(element))
    WebDriverWait(driver, 30).until(EC.url_contains(url_part))
    WebDriverWait(driver, 30).until(lambda d: d.execute_script("return document.readyState") == "complete")


def sign_in(driver, base: str, name: str) -> None:
    from selenium.webdriver.common.by import By

    driver.get(f"{base}/runs")
    assert "/login" in driver.current_url
    driver.find_element(By.NAME, "name").send_keys(name)
    driver.find_element(By.NAME, "password").send_keys(h.PASSWORDS[name])
    click_and_wait(driver, driver.find_element(By.CSS_SELECTOR, "form.login button"), "/runs")


def shot(driver, name: str, size: tuple[int, int] | None = None) -> Path:
    """A screenshot of the page as a test artifact (``size``: the window for it, then back)."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    before = driver.get_window_size()
    if size:
        driver.set_window_size(*size)
    path = ARTIFACTS / f"{name}.png"
    driver.save_screenshot(str(path))
    if size:
        driver.set_window_size(before["width"], before["height"])
    return path


def csp_violations(driver) -> list[str]:
    return [e["message"] for e in driver.get_log("browser") if "Content Security Policy" in e["message"]]


def test_auditor_walks_runs_run_requirement_download_compare(server, browser):
    from selenium.common.exceptions import NoAlertPresentException
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    built, store, base = server
    started = time.time()
    sign_in(browser, base, "aud")
    assert browser.current_url.endswith("/runs")
    rows = browser.find_elements(By.CSS_SELECTOR, "tr.run-row")
    assert len(rows) == 4 and "NOT READY" in rows[0].text
    shot(browser, "runs")

    click_and_wait(browser, browser.find_element(By.LINK_TEXT, built.runs[1][:8]), built.runs[1])
    assert "Readiness: NOT READY" in browser.find_element(By.CSS_SELECTOR, ".verdict").text
    assert browser.find_elements(By.CSS_SELECTOR, ".charts svg")
    shot(browser, "run")

    click_and_wait(browser, browser.find_element(By.LINK_TEXT, "Framework coverage"), "/frameworks")
    summary = browser.find_element(By.CSS_SELECTOR, "table.frameworks").text
    assert "MiFID II RTS 6" in summary and "SEC Rule 15c3-5" in summary
    shot(browser, "frameworks")
    drill = browser.find_element(By.CSS_SELECTOR, "ul.item-reqs a")
    requirement_id = drill.text
    click_and_wait(browser, drill, f"/requirements/{requirement_id}")
    assert browser.find_element(By.TAG_NAME, "h1").text.startswith(requirement_id)
    browser.get(f"{base}/runs/{built.runs[1]}")

    click_and_wait(browser, browser.find_element(By.LINK_TEXT, "PRE-PIPE-01"), "/requirements/PRE-PIPE-01")
    reason = browser.find_element(By.XPATH, "//th[text()='Reason']/following-sibling::td").text
    assert h.PAYLOAD in reason  # shown as text ...
    assert not browser.find_elements(By.CSS_SELECTOR, "main img")  # ... never as an element
    artifacts = browser.find_element(By.CSS_SELECTOR, "table.artifacts").text
    assert h.PAYLOAD in artifacts
    with pytest.raises(NoAlertPresentException):  # onerror=alert(1) never ran
        browser.switch_to.alert
    shot(browser, "requirement")

    browser.get(f"{base}/runs/{built.demo_run}/requirements/LIVE-LIMITED-06")
    observed = browser.find_element(By.CSS_SELECTOR, "tr.threshold-fails td.observed").text
    assert observed == "15.8 USD"
    shot(browser, "requirement-threshold")
    browser.get(f"{base}/runs/{built.demo_run}/requirements/RISK-06")
    assert browser.find_element(By.CSS_SELECTOR, "tr.threshold-fails td.observed").text == "91.16 %"
    shot(browser, "dashboard-requirement", README_SIZE)
    browser.get(f"{base}/runs/{built.demo_run}")  # the degraded demo's run, as the README's tour shows it
    assert "Readiness: NOT READY" in browser.find_element(By.CSS_SELECTOR, ".verdict").text
    shot(browser, "dashboard-run", README_SIZE)
    browser.get(f"{base}/runs/{built.demo_run}/requirements/LIVE-LIMITED-06")
    link = browser.find_element(By.CSS_SELECTOR, "a.download")
    digest = link.get_attribute("href").rsplit("/", 1)[1]
    link.click()
    for _ in range(100):
        done = [p for p in browser.downloads.iterdir()
                if not p.name.endswith(".crdownload") and not p.name.startswith(".")]  # chromium's temp files
        if done:
            break
        time.sleep(0.1)
    assert len(done) == 1 and done[0].name in ("costs.csv", "fills.csv")
    assert hashlib.sha256(done[0].read_bytes()).hexdigest() == digest

    click_and_wait(browser, browser.find_element(By.LINK_TEXT, "Compare"), "/compare")
    Select(browser.find_element(By.NAME, "a")).select_by_value(built.runs[0])
    Select(browser.find_element(By.NAME, "b")).select_by_value(built.runs[1])
    click_and_wait(browser, browser.find_element(By.CSS_SELECTOR, "form.filters button"), f"b={built.runs[1]}")
    new = browser.find_element(By.CSS_SELECTOR, "table.new-failures").text
    assert "PRE-PIPE-01" in new and "pass fail" in new
    shot(browser, "compare")
    browser.get(f"{base}/ledger")
    assert browser.find_element(By.CSS_SELECTOR, "td.ledger-size").text.isdigit()
    shot(browser, "ledger")

    assert csp_violations(browser) == []
    click_and_wait(browser, browser.find_element(By.CSS_SELECTOR, "form.logout button"), "/login")
    assert "/login" in browser.current_url
    browser.get(f"{base}/runs")
    assert "/login" in browser.current_url
    for name in ("runs", "run", "dashboard-run", "frameworks", "requirement", "dashboard-requirement", "compare",
                 "ledger"):
        made = (ARTIFACTS / f"{name}.png").stat()
        assert made.st_size > 10_000 and made.st_mtime >= started - 1  # written by this run


def test_viewer_cannot_reach_admin_pages(server, browser):
    from selenium.webdriver.common.by import By

    built, store, base = server
    sign_in(browser, base, "vic")
    assert not browser.find_elements(By.LINK_TEXT, "Audit log")
    browser.get(f"{base}/admin/audit")
    assert browser.find_element(By.TAG_NAME, "h1").text == "Not allowed"
    assert "needs the admin role" in browser.page_source
