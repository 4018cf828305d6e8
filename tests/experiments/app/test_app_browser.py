"""End to end: `escalation app` on a free local port, driven in Debian's headless Chromium.

The browser is not installed here: `make browser` (which .ci/run calls) installs the Debian
packages chromium and chromium-driver; without them the test skips and says so.
"""

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import pytest
from conftest import ROOT, run_cli

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--window-size=1400,1000",
)
WAIT = 40  # seconds for the server, then for each change on the page


def _browser_missing() -> str | None:
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "selenium is not installed (it is in the [app] extra that `make venv` installs)"
    for path, package in ((CHROMIUM, "chromium"), (CHROMEDRIVER, "chromium-driver")):
        if not path.exists():
            return f"{path} is missing: run `make browser` (as root it installs Debian's {package}; .ci/run does)"
    return None


pytestmark = pytest.mark.skipif(_browser_missing() is not None, reason=str(_browser_missing()))


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _wait_for(condition, what: str, timeout: float = WAIT):
    """Poll ``condition`` until it returns something truthy. The page re-renders while we read it,
    so an element found a moment ago may be gone: that counts as "not yet", not as a failure."""
    from selenium.common.exceptions import StaleElementReferenceException

    end = time.monotonic() + timeout
    while time.monotonic() < end:
        try:
            value = condition()
        except StaleElementReferenceException:
            value = None
        if value:
            return value
        time.sleep(0.3)
    raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")


@pytest.fixture
def server(smoke_results):
    """`escalation app` on a free port; stopped by its process id afterwards."""
    port = _free_port()
    env = {**os.environ, "PYTHONPATH": str(ROOT), "MPLBACKEND": "Agg"}
    process = subprocess.Popen(
        [sys.executable, "-m", "experiments.cli", "app", "--port", str(port), "--results", str(smoke_results)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    url = f"http://127.0.0.1:{port}/"

    def up():
        try:
            return urllib.request.urlopen(url, timeout=2).status == 200
        except OSError:
            return process.poll() is not None and pytest.fail(f"the server exited: {process.stdout.read()}")

    try:
        _wait_for(up, f"the app at {url}")
        yield process, url
    finally:
        os.kill(process.pid, signal.SIGTERM)  # exec'd: this pid is the server itself
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.kill(process.pid, signal.SIGKILL)
            process.wait()


@pytest.fixture
def browser():
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    profile = tempfile.mkdtemp(prefix="chromium-profile-")
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in (*FLAGS, f"--user-data-dir={profile}"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


def _address_line(process) -> str:
    """The command's line with the address (the server may print its own lines first)."""
    for _ in range(20):
        line = process.stdout.readline()
        if line.startswith("escalation app: serving"):
            return line
    raise AssertionError("escalation app printed no address line")


def test_app_serves_both_pages_and_reset_and_step_run_what_escalation_run_runs(server, browser):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    process, url = server
    assert _address_line(process).startswith(f"escalation app: serving {url}")

    browser.get(url)
    body = lambda: browser.find_element(By.TAG_NAME, "body").text  # noqa: E731
    _wait_for(lambda: "Week 0" in body() and "sanctions_level" in body(), "the one-run page")
    assert "PAGE 0" not in body().upper()
    images = lambda: [i.get_attribute("src") for i in browser.find_elements(By.TAG_NAME, "img")]  # noqa: E731
    before_images = _wait_for(lambda: len(images()) >= 4 and images(), "the plots")
    button = lambda text: browser.find_element(By.XPATH, f"//button[normalize-space(.)='{text}']")  # noqa: E731

    # untouched controls: Reset and three weeks are `escalation run --weeks 3` with the same seed
    button("Reset").click()
    for week in (1, 2, 3):
        button("Step").click()
        _wait_for(lambda week=week: f"Week {week}" in body(), f"week {week}")
    assert "all parameters at the table's values" in body()
    expected = json.loads(run_cli("run", "--weeks", "3", "--json").stdout)["outcomes"]
    _wait_for(lambda: "Outcomes after 3 weeks" in body(), "the outcomes")
    shown = " " + " ".join(body().split("Outcomes after 3 weeks")[1].split()) + " "
    for name, value in expected.items():  # as the page prints them: floats to 4 digits, None as "-"
        text = "-" if value is None else f"{value:.4g}" if isinstance(value, float) else str(value)
        assert f" {name} {text} " in shown, (name, text)

    # move a lever: the sanctions level's slider to its minimum, with the keyboard
    thumb = browser.find_element(By.CSS_SELECTOR, ".param-sanctions_level [role='slider']")
    thumb.send_keys(Keys.HOME)
    button("Reset").click()
    _wait_for(lambda: "sanctions_level=0" in body(), "the reset run with the moved lever")
    for week in (1, 2, 3):
        button("Step").click()
        _wait_for(lambda week=week: f"Week {week}" in body(), f"week {week}")
    _wait_for(lambda: len(images()) == len(before_images) and images() != before_images, "the plots to be redrawn")
    assert "parameters changed from the table's values: sanctions_level=0" in body()

    browser.get(url + "sweep")
    _wait_for(lambda: "P(talks) within" in body() and "Paired contrast" in body(), "the sweep page")
    assert "smoke" in body()
