"""The playground in a real browser: Playwright driving Debian's chromium (headless).

Under CI (``CI`` set) a missing playwright, uvicorn or chromium fails these tests; elsewhere they skip.
Screenshots of each tab are saved in the test's temporary folder.
"""

import os
import shutil
import threading
import time

import pytest

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("playground-browser")]

UNDER_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
CHROMIUM = os.environ.get("NEURONET_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"


def _require(module: str):
    try:
        return pytest.importorskip(module)
    except pytest.skip.Exception:
        if UNDER_CI:
            pytest.fail(f"CI must run the browser tests, but {module} is not installed (the playground extra)")
        raise


@pytest.fixture(scope="module")
def base_url():
    uvicorn = _require("uvicorn")
    from neuronet.playground import server

    sock = server._bind("127.0.0.1", 0)
    srv = uvicorn.Server(uvicorn.Config(server.create_app(), log_level="warning", ws="websockets-sansio"))
    thread = threading.Thread(target=srv.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    end = time.monotonic() + 10
    while not srv.started and time.monotonic() < end:
        time.sleep(0.02)
    assert srv.started, "the playground server did not start"
    yield f"http://127.0.0.1:{sock.getsockname()[1]}/"
    srv.should_exit = True
    thread.join(10)
    sock.close()


@pytest.fixture(scope="module")
def browser():
    sync_api = _require("playwright.sync_api")
    if not os.path.exists(CHROMIUM):
        message = f"no chromium at {CHROMIUM} (apt-get install chromium)"
        if UNDER_CI:
            pytest.fail(message)
        pytest.skip(message)
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True)
        yield b
        b.close()


@pytest.fixture
def page(browser, base_url):
    pg = browser.new_page(viewport={"width": 1400, "height": 1000})
    errors = []
    pg.on("pageerror", lambda e: errors.append(str(e)))
    pg.goto(base_url)
    pg.wait_for_selector('[data-testid="preset-xor-relu"]')
    yield pg
    pg.close()
    assert not errors, f"JavaScript errors on the page: {errors}"


def number(page, testid) -> float:
    return float(page.text_content(f'[data-testid="{testid}"]'))


def wait_number(page, testid, op, value, timeout=60_000):
    """Wait until the readout ``testid`` satisfies ``op value`` (op: "<", ">" or "=="); the value seen then."""
    handle = page.wait_for_function(
        f"""() => {{ const v = parseFloat(document.querySelector('[data-testid="{testid}"]')?.textContent);
                   return Number.isFinite(v) && v {op} {value} ? String(v) : false; }}""",
        timeout=timeout,
    )
    return float(handle.json_value())


def set_field(page, testid, text):
    page.fill(f'[data-testid="{testid}"]', text)
    page.press(f'[data-testid="{testid}"]', "Enter")


def test_network_tab_trains_shows_saturation_and_rejects_bad_input(page, tmp_path):
    page.click('[data-testid="preset-xor-relu"]')
    page.wait_for_selector('[data-testid="scene"]:has-text("ReLU")')
    start = number(page, "test-loss")
    page.click('[data-testid="play"]')
    end = wait_number(page, "test-loss", "<", 0.05)
    page.click('[data-testid="pause"]')
    assert end < 0.05 < start, f"displayed test loss {start} -> {end}"
    page.screenshot(path=str(tmp_path / "network-xor-relu.png"), full_page=True)

    page.click('[data-testid="preset-saturation"]')
    page.wait_for_selector('[data-testid="scene"]:has-text("64 standardized inputs")')
    sat = wait_number(page, "saturation-layer-1", ">", 0.5)
    first, last = number(page, "grad-norm-layer-1"), number(page, "grad-norm-layer-2")
    assert first < last, f"the saturated first layer's gradient norm {first} should be below the last's {last}"
    assert (
        page.input_value('[data-testid="init"]') == "normal" and page.input_value('[data-testid="dataset"]') == "digits"
    )
    page.screenshot(path=str(tmp_path / "network-saturation.png"), full_page=True)
    page.check('[data-testid="remedy-1"]')
    fixed = wait_number(page, "saturation-layer-1", "<", 0.1)
    assert fixed < sat, f"fan-in init should lower the saturated fraction: {sat} -> {fixed}"

    for testid, text, words in [
        ("learning-rate", "0", "must be > 0"),
        ("learning-rate", "fast", "expected a number"),
        ("hidden-layers", "1000000", "≤ 128"),
        ("hidden-layers", "0", "≥ 1"),
    ]:
        set_field(page, testid, text)
        page.wait_for_selector(f'[data-testid="message"]:has-text("{words}")', timeout=5000)
        assert "invalid" in page.get_attribute(f'[data-testid="{testid}"]', "class"), testid
    page.click('[data-testid="step"]')
    page.wait_for_function("() => document.querySelector('[data-testid=updates]').textContent === '1'")

    page.click('[data-testid="export"]')
    page.wait_for_selector('[data-testid="export-command"]:has-text("neuronet train")')
    command = page.text_content('[data-testid="export-command"]')
    assert "--data digits" in command and "--init fan-in" in command and "--lr 0.3" in command, command

    page.click('[data-testid="preset-exploding"]')
    page.wait_for_selector('[data-testid="scene"]:has-text("diverges")')
    page.click('[data-testid="play"]')
    page.wait_for_selector('[data-testid="status"]:has-text("diverged: weights rolled back")')


def test_biology_tab_lif_rate_and_hopfield_recall(page, tmp_path):
    page.click('[data-testid="tab-biology"]')
    wait_number(page, "lif-rate", ">", 0)
    set_field(page, "lif-current", "20")
    rate = wait_number(page, "lif-rate", ">", 300)
    assert rate < 1000, f"at 20 nA the rate {rate}/s must stay under 1/t_ref = 1000/s"

    set_field(page, "hopfield-corrupt", "0.3")
    set_field(page, "hopfield-kill", "0.25")
    cue = wait_number(page, "hopfield-overlap", "<", 0.6)
    page.click('[data-testid="hopfield-recall"]')
    recalled = wait_number(page, "hopfield-overlap", "==", 1)
    assert recalled == 1.0 > cue, f"overlap {cue} -> {recalled}"
    page.wait_for_selector('[data-testid="plasticity-summary"]:has-text("Oja")')
    page.screenshot(path=str(tmp_path / "biology.png"), full_page=True)

    set_field(page, "lif-current", "-3")
    page.wait_for_selector('[data-testid="message"]:has-text("lif-current")')
