"""The playground page in a real browser: Playwright for Python driving Debian's chromium
(never a downloaded browser). Skipped, with the reason, where either cannot be had."""

import json
import pathlib
import shutil
import threading
from urllib.parse import unquote

import pytest

import deltagrad as dg
from deltagrad.playground import PRESETS, Experiment, address, make_server

sync_api = pytest.importorskip(
    "playwright.sync_api", reason="playwright is not installed (pip install -e '.[dev]')")
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.skipif(
    CHROMIUM is None, reason="chromium is not installed (make test installs Debian's chromium "
                             "when it can: apt-get as root)")
SHOTS = pathlib.Path(__file__).resolve().parents[1] / "build" / "playground"
DESKTOP, PHONE = {"width": 1280, "height": 800}, {"width": 390, "height": 844}


@pytest.fixture(scope="module")
def url():
    server = make_server(port=0)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield address(server)
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def browser():
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM,
                                             args=["--no-sandbox", "--disable-gpu"])
        yield browser
        browser.close()


@pytest.fixture(autouse=True)
def _pages_end_with_the_test(request):
    """Every page a test opened is closed when it ends, passed or failed: a page left open
    would go on training in the module's browser while the next tests run."""
    yield
    if "browser" in request.fixturenames:
        for context in request.getfixturevalue("browser").contexts:
            context.close()


def open_page(browser, url, viewport=DESKTOP):
    page = browser.new_page(viewport=viewport)
    errors = []
    page.on("pageerror", lambda err: errors.append(str(err)))
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.goto(url)
    page.wait_for_selector(".unit.output")
    return page, errors


def test_stepping_through_xor_shows_the_tracers_deltas(browser, url):
    """2-2-1 on XOR, pattern 2 = (0, 1): every δ the diagram shows is the tracer's JSON."""
    page, errors = open_page(browser, url)
    page.select_option("#pattern", "1")
    page.wait_for_function("document.getElementById('pattern').value === '1' && "
                           "document.querySelector('#diagram [data-key=\"x_2\"]')"
                           ".dataset.value === '1'")
    page.click("#start-over")
    assert page.locator("#diagram [data-key^='delta']").count() == 0  # nothing backward yet
    while page.is_enabled("#next"):
        page.click("#next")
    shown = {el.get_attribute("data-key"): (float(el.get_attribute("data-value")), el.inner_html())
             for el in page.locator("#diagram text[data-key^='delta']").all()}
    ex = Experiment({"dataset": "xor", **PRESETS["xor"]})
    x, t = ex.X[1], ex.T[1]
    traced = json.loads(dg.explain.backprop(ex.network(), x, t, loss="binary_cross_entropy",
                                            lr=0.5).to_json())["values"]
    assert sorted(shown) == ["delta^(1)_1", "delta^(1)_2", "delta^(2)_1"]
    for key, (value, text) in shown.items():
        assert value == traced[key], (key, value, traced[key])
        assert text == f"δ {traced[key]:.4f}"
    page.focus(".unit.hidden")
    info = page.inner_text("#unit-info")
    assert "Σ_k w_kj δ_k" in info and f"{traced['sum^(1)_1']:.4f}" in info  # Rule 2's sum
    page.screenshot(path=str(_shot("step-1280x800.png")))
    assert errors == []


def test_training_xor_for_200_epochs_classifies_all_four(browser, url):
    page, errors = open_page(browser, url)
    page.click("#train")
    page.wait_for_function("document.getElementById('metrics').dataset.epoch === '200'",
                           timeout=120_000)
    assert page.get_attribute("#metrics", "data-correct") == "4"
    first = float(page.get_attribute("#curves", "data-first"))
    last = float(page.get_attribute("#curves", "data-last"))
    assert last < 0.05 * first
    page.screenshot(path=str(_shot("trained-1280x800.png")))
    phone, phone_errors = open_page(browser, page.url, PHONE)
    phone.screenshot(path=str(_shot("phone-390x844.png")), full_page=True)
    width = phone.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], "the page scrolls sideways on a phone"
    assert errors == [] and phone_errors == []


def test_a_bias_set_by_keyboard_goes_into_the_link(browser, url):
    page, errors = open_page(browser, url)
    page.focus(".unit.output")
    page.keyboard.press("Enter")
    page.fill("#weight-value", "0.125")
    page.keyboard.press("Enter")
    page.wait_for_function("location.hash.includes('w%5E(2)_10')")
    config = json.loads(unquote(page.evaluate("location.hash")[1:]))
    assert config["weights"] == {"w^(2)_10": 0.125}
    again, _ = open_page(browser, page.url)
    assert again.text_content(".unit.output text.b") == "b 0.1250"
    assert errors == []


def test_every_control_is_labelled(browser, url):
    page, _ = open_page(browser, url)
    unlabelled = page.evaluate("""() => [...document.querySelectorAll('input, select, button')]
        .filter((el) => !(el.labels && el.labels.length) && !el.textContent.trim()
                        && !el.getAttribute('aria-label'))
        .map((el) => el.id || el.outerHTML)""")
    assert unlabelled == []
    focusable = page.locator("#diagram [tabindex='0'][aria-label]").count()
    assert focusable == 5 + 6  # 2 + 2 + 1 units and 6 weights


def _shot(name: str) -> pathlib.Path:
    SHOTS.mkdir(parents=True, exist_ok=True)
    return SHOTS / name
