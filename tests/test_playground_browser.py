"""The playground page in a real browser: Playwright for Python driving Debian's chromium
(never a downloaded browser). Skipped, with the reason, where either cannot be had."""

import json
import pathlib
import shutil
import threading
import time
from urllib.parse import unquote

import numpy as np
import pytest

import deltagrad as dg
from deltagrad.playground import PRESETS, Experiment, Playground, address, make_server
from deltagrad.playground import views

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
    link = json.loads(unquote(page.evaluate("location.hash")[1:]))
    assert link["config"]["weights"] == {"w^(2)_10": 0.125} and link["epoch"] == 0
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


def wait(page, expression, seconds=60):
    """Until ``expression`` is true in the page, asked every 100 ms (Playwright's
    wait_for_function missed a change here after a second page had opened and closed)."""
    deadline = time.monotonic() + seconds
    while not page.evaluate(expression):
        assert time.monotonic() < deadline, (f"waited {seconds} s for {expression}",
                                             page.inner_text("#error"))
        page.wait_for_timeout(100)


def state(page, name):
    return page.evaluate(f"JSON.parse(JSON.stringify(state.{name}))")


def test_second_edition_on_the_desktop(browser, url, tmp_path):
    """Issue 24 in one session: a weight edit redraws the region and the error; Train goes on
    from the current weights; the link and the model file restore the trained network; a
    unit's large view is predict of that unit; features, L1, show/hide test data, discretise;
    the error surface is dg.analysis's; saturated units are named; the training step shows."""
    page, errors = open_page(browser, url)
    # 1. a hand-set weight refreshes every view
    region, metrics = page.get_attribute("#region", "data-values"), page.inner_text("#metrics")
    page.click("#diagram .edge[data-key='w^(2)_11']")
    page.fill("#weight-value", "4")
    page.keyboard.press("Enter")
    wait(page, f"document.getElementById('region').dataset.values !== {region!r}")
    assert page.inner_text("#metrics") != metrics
    assert json.loads(page.get_attribute("#region", "data-ticks"))[0] == [0, 0.5, 1]
    # 2. Train, Train again: the epoch counter goes on from the current weights
    page.fill("#epochs", "30")
    page.click("#train")
    wait(page, "document.getElementById('metrics').dataset.epoch === '30'")
    page.click("#train")
    wait(page, "document.getElementById('metrics').dataset.epoch === '60'")
    page.check("#forever")
    page.click("#train")
    wait(page, "Number(document.getElementById('metrics').dataset.epoch) >= 100")
    page.click("#train")  # pause
    wait(page, "!state.looping")
    epoch, weights = state(page, "epoch"), state(page, "weights")
    assert epoch >= 100 and page.inner_text("#train") == "▶ Train"
    # 4. the link restores the trained network, exactly
    again, again_errors = open_page(browser, page.url)
    assert state(again, "weights") == weights and state(again, "epoch") == epoch
    again.close()
    # 11. hovering a unit shows its output over the plane: predict of the cut network
    page.hover(".unit.hidden[data-unit='2']")
    wait(page, "document.getElementById('unit-large').dataset.unit === '1-2'")
    shown = json.loads(page.get_attribute("#unit-large", "data-values"))
    ex = Experiment(state(page, "config"))
    axes, mesh = ex.grid(views.UNIT_GRID)
    cut = dg.nn.MLP([2, 2], output="tanh")
    cut.linears[0].weight.data[...] = weights[0]["W"]
    cut.linears[0].bias.data[...] = weights[0]["b"]
    np.testing.assert_allclose(shown, dg.predict(cut, ex.inputs(mesh))[:, 1], atol=5e-6)
    # 13. the error surface: the server's numbers at the current point
    page.select_option("#pair-a", "w^(1)_11")
    page.select_option("#pair-b", "w^(2)_10")
    page.click("#surface-show")
    page.wait_for_selector("#surface-box:not([hidden])")
    expected = views.surface(ex, ex.network(weights), ["w^(1)_11", "w^(2)_10"])
    assert float(page.get_attribute("#surface", "data-e-hat")) == expected["E_hat"]
    assert json.loads(page.get_attribute("#surface", "data-centre")) == expected["centre"]
    # 14. the step training takes: the whole set (batch mode), ∂E/∂w and the update
    page.check("#show-training-step")
    row = page.locator("#training-step tr[data-key='w^(2)_10'] td").all_inner_texts()
    step = views.training_step(ex, ex.network(weights), epoch)
    mine = [w for w in step["weights"] if w["name"] == "w^(2)_10"][0]
    assert row[1:] == [f"{mine[k]:.4f}" for k in ("w", "dE", "dOmega", "update", "new")]
    # 4. the model file the page saves loads back as the network it was
    model = Playground().export({"config": state(page, "config"), "weights": weights,
                                 "epoch": epoch})
    path = tmp_path / "xor.safetensors"
    path.write_bytes(model)
    page.click("#reset")
    wait(page, "state.epoch === 0")
    page.set_input_files("#load-model", str(path))
    wait(page, f"state.epoch === {epoch}")
    assert state(page, "weights") == weights
    # 3. a saturated unit is marked and named
    page.click(".unit.hidden[data-unit='1']")
    page.fill("#weight-value", "60")
    page.keyboard.press("Enter")
    page.wait_for_selector(".unit.hidden.saturated[data-unit='1']")
    assert "Saturated: unit 1 of layer 1 (100%)" in page.inner_text("#advice")
    # 9, 10, 12. features, L1 and its rate, show/hide test data and discretise, on moons
    page.select_option("#dataset", "moons")
    wait(page, "state.config.dataset === 'moons'")
    assert page.get_attribute("#region", "data-test") != "0"
    page.uncheck("#show-test")
    assert page.get_attribute("#region", "data-test") == "0"
    page.check("#discrete")
    assert page.get_attribute("#region", "data-discrete") == "1"
    page.check("#feature-x1x2")
    page.check("#feature-sin_x1")
    page.select_option("#regularizer", "l1")
    page.fill("#lam", "0.05")
    page.click("#build")
    wait(page, "state.sizes[0] === 4")
    assert state(page, "features") == ["x1", "x2", "x1x2", "sin_x1"]
    assert page.locator(".unit.input").count() == 4
    assert state(page, "config")["regularizer"] == "l1"
    assert state(page, "step")["training_step"]["regularizer"] == "l1"
    page.screenshot(path=str(_shot("second-edition-1280x800.png")), full_page=True)
    assert errors == [] and again_errors == []


def test_second_edition_on_a_phone(browser, url):
    """At 390×844 nothing scrolls sideways: the diagram fits the column with its output unit
    on screen, the weight box shows a fixed precision, the tables wrap."""
    page, errors = open_page(browser, url, PHONE)
    page.select_option("#dataset", "spirals")
    wait(page, "state.sizes.length === 4")
    box = page.locator(".unit.output").bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"]
    page.click("#train")
    wait(page, "Number(document.getElementById('metrics').dataset.epoch) >= 20")
    page.click("#train")
    wait(page, "!state.looping")
    page.check("#show-training-step")
    page.click("#diagram .edge[data-key='w^(1)_11']")
    value = page.input_value("#weight-value")
    assert float(value) == float(f"{float(value):.6g}") and len(value) <= 12, value
    page.click("#weight-cancel")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    page.screenshot(path=str(_shot("second-edition-390x844.png")))
    assert errors == []
