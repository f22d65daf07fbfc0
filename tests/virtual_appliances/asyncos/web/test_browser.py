"""A real browser (Debian chromium + chromedriver, headless) walks the seed's steps 1-6 (ENA-1..4, REG-2)."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from virtual_appliances.asyncos import messages as msg
from virtual_appliances.asyncos.model import BUSY_SECONDS

from .support import TIMEOUT, SimAppliance, make_mail

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
SCREENSHOTS = Path(tempfile.gettempdir())

webdriver = pytest.importorskip("selenium.webdriver", reason="selenium is not installed")
from selenium.common.exceptions import TimeoutException, WebDriverException  # noqa: E402 - after the skip check
from selenium.webdriver.common.action_chains import ActionChains  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support import expected_conditions as ec  # noqa: E402
from selenium.webdriver.support.ui import Select, WebDriverWait  # noqa: E402


@pytest.fixture
def browser() -> Iterator[webdriver.Chrome]:
    if not CHROMIUM.exists() or not CHROMEDRIVER.exists():
        pytest.skip(f"needs Debian chromium and chromedriver ({CHROMIUM}, {CHROMEDRIVER}): "
                    "apt-get install chromium chromium-driver")
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for arg in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--no-first-run", "--ignore-certificate-errors",
                "--window-size=1280,900"):
        options.add_argument(arg)
    service = webdriver.ChromeService(executable_path=str(CHROMEDRIVER))
    driver = webdriver.Chrome(service=service, options=options)
    driver.set_page_load_timeout(TIMEOUT)
    try:
        yield driver
    finally:
        driver.quit()


def body_text(driver: webdriver.Chrome) -> str:
    return " ".join(driver.find_element(By.TAG_NAME, "body").text.split())


def wait_for_text(driver: webdriver.Chrome, text: str) -> None:
    # Why every WebDriverException is polled past: while a submitted form's next page loads, chromedriver can
    # call the old body stale or answer with another error as the old document goes (CI once saw the latter).
    last_error: list[str] = []

    def shows_text(d: webdriver.Chrome) -> bool:
        try:
            return text in body_text(d)
        except WebDriverException as exc:
            last_error[:] = [f"{type(exc).__name__}: {exc.msg}"]
            return False

    try:
        WebDriverWait(driver, TIMEOUT).until(shows_text)
    except TimeoutException:
        raise AssertionError(f"page never showed {text!r} in {TIMEOUT} s; last driver error: "
                             f"{last_error[0] if last_error else 'none'}") from None


def click(driver: webdriver.Chrome, by: str, value: str) -> None:
    WebDriverWait(driver, TIMEOUT).until(ec.element_to_be_clickable((by, value))).click()


def test_enable_commit_and_register_in_a_browser(esa: SimAppliance, browser: webdriver.Chrome) -> None:
    browser.get(esa.gui_url + "/network/cloud_service_settings")
    # Redirected to the login form.
    WebDriverWait(browser, TIMEOUT).until(ec.presence_of_element_located((By.ID, "username")))
    browser.find_element(By.ID, "username").send_keys("admin")
    browser.find_element(By.ID, "password").send_keys(esa.password)
    click(browser, By.ID, "login_button")

    # Step 1: Network > Cloud Service Settings, through the tab's drop-down menu.
    wait_for_text(browser, "Cloud Service Settings")
    browser.get(esa.gui_url + "/monitor")
    network = browser.find_element(By.LINK_TEXT, "Network")
    ActionChains(browser).move_to_element(network).perform()
    click(browser, By.CSS_SELECTOR, "#tabs .menu a[href='/network/cloud_service_settings']")
    wait_for_text(browser, "Threat Response: Disabled")
    text = body_text(browser)
    assert "Cisco C100V Email Security Virtual Appliance" in text
    assert "Threat Response Server: No Server is set." in text
    assert msg.STATUS_DISABLED in text  # ENA-1

    # Steps 2-3: Edit Settings, check Enable, keep the default server, Submit.
    click(browser, By.LINK_TEXT, "Edit Settings")
    WebDriverWait(browser, TIMEOUT).until(ec.presence_of_element_located((By.ID, "enabled")))
    server = Select(browser.find_element(By.ID, "server"))
    assert [o.text for o in server.options] == ["AMERICAS (api-sse.cisco.com)", "EUROPE (api.eu.sse.itd.cisco.com)"]
    assert server.first_selected_option.text == "AMERICAS (api-sse.cisco.com)"
    browser.find_element(By.ID, "enabled").click()
    browser.save_screenshot(str(SCREENSHOTS / "ctrlab_gui_edit_settings.png"))
    click(browser, By.ID, "submit")
    wait_for_text(browser, "Commit Changes")
    assert "Threat Response: Disabled" in body_text(browser)  # ENA-5: not applied yet

    # Step 4: Commit Changes -> Uncommitted Changes page -> comment -> Commit Changes.
    click(browser, By.ID, "commit_changes")
    wait_for_text(browser, msg.UNCOMMITTED_NOTICE)
    browser.find_element(By.ID, "comment").send_keys("Enabling CTR")
    browser.save_screenshot(str(SCREENSHOTS / "ctrlab_gui_uncommitted.png"))
    click(browser, By.ID, "commit")
    wait_for_text(browser, msg.COMMITTED)
    text = body_text(browser)
    assert "Threat Response: Enabled" in text and "AMERICAS (api-sse.cisco.com)" in text
    assert f"Status: {msg.STATUS_BUSY}" in text  # ENA-4
    browser.save_screenshot(str(SCREENSHOTS / "ctrlab_gui_committed.png"))

    # "After a few minutes" the Registration Token field appears; step 6: paste the token, Register.
    esa.advance(BUSY_SECONDS)
    browser.refresh()
    WebDriverWait(browser, TIMEOUT).until(ec.presence_of_element_located((By.ID, "token")))
    browser.find_element(By.ID, "token").send_keys("8e789d60b6ced63875353d177f25ab0e")
    browser.save_screenshot(str(SCREENSHOTS / "ctrlab_gui_token.png"))
    click(browser, By.ID, "register")
    wait_for_text(browser, msg.REGISTER_INITIATED)
    assert f"Status: {msg.STATUS_IN_PROGRESS}" in body_text(browser)  # REG-2
    browser.save_screenshot(str(SCREENSHOTS / "ctrlab_gui_register.png"))


def test_message_tracking_in_a_browser(esa: SimAppliance, browser: webdriver.Chrome) -> None:
    """VER-4: the test mail found by subject "Begins With" (seed 004, Verify)."""
    esa.send_mail(make_mail("test test"), "mgmt01@cisco.com", ["testingBren@cisco.com"])
    browser.get(esa.gui_url + "/login")
    WebDriverWait(browser, TIMEOUT).until(ec.presence_of_element_located((By.ID, "username")))
    browser.find_element(By.ID, "username").send_keys("admin")
    browser.find_element(By.ID, "password").send_keys(esa.password)
    click(browser, By.ID, "login_button")
    wait_for_text(browser, "Logged in as")
    browser.get(esa.gui_url + "/monitor_email_tracking/message_tracking")
    assert Select(browser.find_element(By.ID, "subject_match")).first_selected_option.text == "Begins With"
    browser.find_element(By.ID, "subject").send_keys("test test")
    click(browser, By.ID, "search")
    wait_for_text(browser, "Displaying 1 \u2014 1 of 1 items.")
    text = body_text(browser)
    assert "MID: 1" in text and "SENDER: mgmt01@cisco.com" in text and "SUBJECT: test test" in text
    assert "LAST STATE: Message 1 to testingBren@cisco.com" in text
    browser.save_screenshot(str(SCREENSHOTS / "ctrlab_gui_tracking.png"))
