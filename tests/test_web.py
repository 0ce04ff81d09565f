"""The simulated module in a browser (`tillroll sim --web PORT`), as an integrator and a
technician use it: Debian's Chromium, headless, driven by selenium through chromium-driver.

What is asserted is what the page shows: the receipt drawn from the streamed dot lines equals
the module's PNG pixel for pixel, the lights are lit or dark, and the COPY banners read back
with OCR. Screenshots are kept in out/test-artifacts/.
"""

from __future__ import annotations

import base64
import io
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from escpos.printer import Network
from PIL import Image, ImageChops
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from ocr import read_text
from tillroll_host.sample import PROFILE, send_shop_receipt
from tillroll_host.sim import free_port, interruptible, send

ARTIFACTS = Path(__file__).parents[1] / "out" / "test-artifacts"
_WAIT = 90  # seconds: a loaded machine may be slow; nothing here measures speed


class WebModule:
    """`tillroll sim --web PORT` in a child process, started as a user starts it."""

    def __init__(self, out: Path, *options: str):
        self.out = out
        self.data_port = free_port()
        self.web_port = free_port()
        self.output: list[str] = []
        self._ready = threading.Event()
        cmd = [sys.executable, "-m", "tillroll_host.cli", "sim", "--web", str(self.web_port)]
        cmd += ["--data-port", str(self.data_port), "--out", str(out), *options]
        self._proc = subprocess.Popen(
            cmd,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            preexec_fn=interruptible,  # Ctrl-C stops it, as a user's would
        )
        threading.Thread(target=self._read, daemon=True).start()
        if not self._ready.wait(_WAIT) or self._proc.poll() is not None:
            self.stop()
            pytest.fail("tillroll sim --web did not start:\n" + "\n".join(self.output))
        self.url = f"http://127.0.0.1:{self.web_port}/"

    def _read(self):
        for line in self._proc.stdout:
            self.output.append(line.rstrip("\n"))
            if line.startswith("web page on "):
                self._ready.set()
        self._ready.set()

    def stop(self) -> int:
        if self._proc.poll() is None:
            self._proc.send_signal(signal.SIGINT)
            try:
                self._proc.wait(30)
            except subprocess.TimeoutExpired:
                self._proc.kill()
        return self._proc.wait()


@pytest.fixture
def browser():
    """Headless Chromium from Debian; its absence fails the test loudly."""
    chromium = shutil.which("chromium")
    driver_path = shutil.which("chromedriver")
    if chromium is None or driver_path is None:
        pytest.fail(
            "Debian's chromium and chromium-driver are not installed: run `make test`, "
            "which installs them"
        )
    profile = tempfile.mkdtemp(prefix="tillroll-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for arg in (
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        f"--user-data-dir={profile}",
        "--window-size=1400,1000",
    ):
        options.add_argument(arg)
    driver = webdriver.Chrome(options=options, service=Service(driver_path))
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


def open_page(driver, module: WebModule) -> None:
    driver.get(module.url)
    until(driver, lambda d: lit(d, "power"), "the page never showed the module powered")


def until(driver, condition, what: str):
    try:
        return WebDriverWait(driver, _WAIT, poll_frequency=0.1).until(condition)
    except Exception as e:
        shot(driver, "failure")
        raise AssertionError(what) from e


def lit(driver, name: str) -> bool:
    return "on" in driver.find_element(By.ID, f"light-{name}").get_attribute("class").split()


def receipt_on_page(driver, number: int, streamed: bool = True):
    """The page's receipt `number` once it has been torn off, as the page shows it: drawn
    from the streamed dot lines, or, where the stream did not carry all of them (a receipt
    printed before the page's server joined), from the module's PNG."""
    css = f'#receipts li[data-number="{number}"]'
    until(driver, lambda d: d.find_elements(By.CSS_SELECTOR, css), f"receipt {number} not shown")
    item = driver.find_element(By.CSS_SELECTOR, css)
    if streamed:
        assert item.get_attribute("data-streamed") == "yes", "drawn from its PNG, not the stream"
    until(
        driver,
        lambda d: d.execute_script(
            "const i = arguments[0].querySelector('img'); return !i || i.complete", item
        ),
        f"receipt {number}'s image never loaded",
    )
    data_url = driver.execute_script(
        """const shown = arguments[0].querySelector('.receipt-image');
        if (shown.tagName === 'CANVAS') return shown.toDataURL('image/png');
        const c = document.createElement('canvas');
        c.width = shown.naturalWidth;
        c.height = shown.naturalHeight;
        c.getContext('2d').drawImage(shown, 0, 0);
        return c.toDataURL('image/png');""",
        item,
    )
    return Image.open(io.BytesIO(base64.b64decode(data_url.split(",", 1)[1])))


def assert_same_image(page: Image.Image, png: Path) -> None:
    paper = Image.open(png).convert("L")
    shown = page.convert("L")
    assert shown.size == paper.size, (shown.size, paper.size)
    assert ImageChops.difference(shown, paper).getbbox() is None, "the page differs from the PNG"


def shot(driver, name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"web-{name}.png"
    driver.save_screenshot(str(path))
    return path


def test_a_python_escpos_receipt_appears_on_the_page_as_its_png(tmp_path, browser, tesseract):
    module = WebModule(tmp_path / "out")
    try:
        open_page(browser, module)
        assert lit(browser, "online") and not lit(browser, "paper_out")
        for path in ("static/../web.py", "receipts/7.png", "nothing"):  # only its own files
            with pytest.raises(urllib.error.HTTPError, match="404"):
                urllib.request.urlopen(module.url + path, timeout=_WAIT)

        send_shop_receipt(module.data_port)
        page = receipt_on_page(browser, 1)
        assert_same_image(page, tmp_path / "out" / "receipt-0001.png")

        # The journal lists it, printed, and gives it as a PNG.
        row = '#journal-rows tr[data-number="1"][data-state="printed"]'
        until(browser, lambda d: d.find_elements(By.CSS_SELECTOR, row), "journal: not printed")
        assert "TILLROLL CAFE" in browser.find_element(By.CSS_SELECTOR, row).text
        link = browser.find_element(By.CSS_SELECTOR, f"{row} a[download]")
        with urllib.request.urlopen(link.get_attribute("href"), timeout=_WAIT) as reply:
            journal_png = Image.open(io.BytesIO(reply.read()))
        assert "TILLROLL CAFE" in read_text(journal_png), read_text(journal_png)

        # FEED twice: the last receipt again, marked COPY.
        ActionChains(browser).double_click(browser.find_element(By.ID, "btn-feed")).perform()
        copy = receipt_on_page(browser, 2)
        assert_same_image(copy, tmp_path / "out" / "receipt-0002.png")
        lines = read_text(copy)
        assert lines[0] == lines[-1] == "COPY" and "TILLROLL CAFE" in lines, lines
        shot(browser, "receipt")
    finally:
        assert module.stop() == 0, "\n".join(module.output)


def test_paper_out_mid_receipt_lights_up_and_it_comes_out_again_as_a_copy(
    tmp_path, browser, tesseract
):
    module = WebModule(tmp_path / "out", "--real-time")
    try:
        open_page(browser, module)
        printer = Network("127.0.0.1", port=module.data_port, timeout=10, profile=PROFILE)
        printer.set(align="center", bold=True)
        printer.text("PAPER OUT TEST\n")
        printer.set(align="left", bold=False)
        for n in range(1, 121):
            printer.text(f"Item {n:3d}                 1.00\n")
        printer.text("Thank you\n")
        printer.cut()
        printer.close()

        # Mid-receipt, at the mechanism's pace: pull the paper out.
        def printing(d):
            return int(d.find_element(By.ID, "paper").get_attribute("data-rows")) >= 200

        until(browser, printing, "the receipt never started printing on the page")
        browser.find_element(By.ID, "btn-paper-out").click()
        until(browser, lambda d: lit(d, "paper_out"), "the paper-out light never lit")
        assert lit(browser, "error") and not lit(browser, "online")
        assert not browser.find_elements(By.CSS_SELECTOR, "#receipts li"), "not mid-receipt"
        shot(browser, "paper-out")

        browser.find_element(By.ID, "btn-paper-in").click()
        until(browser, lambda d: not lit(d, "paper_out"), "the paper-out light stayed lit")
        first = receipt_on_page(browser, 1)  # the rest of it, once the paper is in
        assert_same_image(first, tmp_path / "out" / "receipt-0001.png")
        copy = receipt_on_page(browser, 2)
        assert_same_image(copy, tmp_path / "out" / "receipt-0002.png")
        lines = read_text(copy)
        assert lines[0] == lines[-1] == "COPY", lines
        assert "PAPER OUT TEST" in lines and "Thank you" in lines, lines
        assert lit(browser, "online") and not lit(browser, "error")
        shot(browser, "copy")
    finally:
        assert module.stop() == 0, "\n".join(module.output)


def test_a_receipt_held_at_a_power_cut_comes_out_as_a_copy_at_power_on(
    tmp_path, browser, tesseract
):
    out = tmp_path / "out"
    module = WebModule(out)
    try:
        open_page(browser, module)
        send(module.data_port, b"\x1b@FIRST SHOP\nTea 1.80\n\x1dV\x00")
        receipt_on_page(browser, 1)
        first = (out / "receipt-0001.png").read_bytes()

        browser.find_element(By.ID, "btn-paper-out").click()
        until(browser, lambda d: lit(d, "paper_out"), "the paper-out light never lit")
        send(module.data_port, b"\x1b@HELD SHOP\nCoffee 2.50\n\x1dV\x00")
        held = '#journal-rows tr[data-number="2"]'
        until(
            browser,
            lambda d: any(
                r.get_attribute("data-state") in ("printing", "interrupted")
                for r in d.find_elements(By.CSS_SELECTOR, held)
            ),
            "the held receipt never reached the journal",
        )
        browser.find_element(By.ID, "btn-power-cut").click()
        until(browser, lambda d: not lit(d, "power"), "the power light stayed lit")
        assert not lit(browser, "online") and not lit(browser, "paper_out")
        assert not browser.find_element(By.ID, "btn-feed").is_enabled()

        browser.find_element(By.ID, "btn-power-on").click()  # a new roll is in
        # Printed as the module starts: the page may join after its first dot lines.
        copy = receipt_on_page(browser, 2, streamed=False)  # numbered on from before the cut
        assert_same_image(copy, out / "receipt-0002.png")
        lines = read_text(copy)
        assert lines[0] == lines[-1] == "COPY" and "HELD SHOP" in lines, lines
        assert lit(browser, "power") and lit(browser, "online")
        assert (out / "receipt-0001.png").read_bytes() == first, "receipt 1 was overwritten"
    finally:
        assert module.stop() == 0, "\n".join(module.output)
