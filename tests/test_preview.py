"""`consilium preview` in a real browser: change a rule file, and the chart on the page changes.

The preview runs as its own process on the loopback, on a copy of the bundled knowledge base;
headless Chromium (Debian's chromium and chromium-driver, which `.ci/run` installs) opens it.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from conftest import KB

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
DRIVER = shutil.which("chromedriver")
pytestmark = pytest.mark.skipif(not (CHROMIUM and DRIVER),
                                reason="headless Chromium and chromedriver are not installed "
                                       "(apt-get install chromium chromium-driver)")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def preview(tmp_path: Path):
    kb = tmp_path / "kb"
    shutil.copytree(KB, kb)
    port = free_port()
    process = subprocess.Popen([sys.executable, "-m", "consilium", "preview", str(kb), "--port", str(port),
                                "--no-browser"], stderr=subprocess.PIPE, text=True)
    url = f"http://127.0.0.1:{port}/"
    deadline = time.monotonic() + 60
    while True:
        try:
            urllib.request.urlopen(url + "state", timeout=5).read()
            break
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                pytest.fail(f"the preview did not start: {process.stderr.read() if process.stderr else ''}")
            time.sleep(0.2)
    yield kb, url
    process.terminate()
    process.wait(timeout=10)


@pytest.fixture
def browser():
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run",
                 "--disable-background-networking", "--window-size=1366,900"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(DRIVER), options=options)
    yield driver
    driver.quit()


def wait_for(driver, condition, timeout: float = 30):
    from selenium.webdriver.support.ui import WebDriverWait
    return WebDriverWait(driver, timeout, poll_frequency=0.2).until(lambda d: condition(d))


def test_the_chart_redraws_when_a_rule_file_changes(preview, browser):
    kb, url = preview
    browser.get(url)
    chart = lambda d: d.find_element("id", "chart").get_attribute("innerHTML")  # noqa: E731
    wait_for(browser, lambda d: "Simultaneous rectal and hepatic surgery" in chart(d) or
             d.find_elements("css selector", "#chart svg"))
    browser.find_element("css selector", 'nav a[data-chart="pathway-hepatic_metastases"]').click()
    wait_for(browser, lambda d: "Simultaneous rectal" in chart(d))
    assert len(browser.find_elements("css selector", "#scenarios .passed")) > 50
    drawn = browser.find_element("tag name", "body").get_attribute("data-drawn")

    liver = kb / "liver.rules"
    liver.write_text(liver.read_text().replace('"Simultaneous rectal and hepatic surgery',
                                               '"Redrawn simultaneous rectal and hepatic surgery'))
    wait_for(browser, lambda d: "Redrawn" in chart(d))
    assert browser.find_element("tag name", "body").get_attribute("data-drawn") != drawn
    assert browser.find_element("css selector", 'nav a.chosen').get_attribute("data-chart") == \
        "pathway-hepatic_metastases"

    # a broken rule file: its diagnostics on the page, the last chart kept (greyed)
    liver.write_text(liver.read_text().replace("recommend simultaneous_surgery", "recommend", 1))
    wait_for(browser, lambda d: d.find_element("id", "errors").is_displayed())
    assert "liver.rules" in browser.find_element("id", "errors").text
    assert "stale" in browser.find_element("id", "chart").get_attribute("class")
    assert "Redrawn" in chart(browser)
