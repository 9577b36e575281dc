"""The stepper and the maths panel show the server's numbers, for every output / loss /
regularisation the config allows: walk the six steps a few phases in, read the numbers
on screen and compare them with the API (the frame, GET /api/sessions/<id>, /params)
to 3 significant figures. Also the formulas: L1 shows its own penalty, a squashing
output with MSE shows (a − y) ⊙ g′(z), and nothing reads "NaN"."""

import json
import time

import pytest

from tests.browser.test_page import wait_until
from tests.browser.test_panels import api, fmt3

COMBINATIONS = [
    ("sigmoid", "cross_entropy", "circle"),
    ("sigmoid", "mse", "circle"),
    ("softmax", "cross_entropy", "circle"),
    ("softmax", "mse", "circle"),
    ("linear", "mse", "plane"),
]
LAMBDA = 0.3


def server_frame(page) -> dict:
    """The session's current frame, as the stream sends it (a new stream opens with it)."""
    sid = page.evaluate("document.getElementById('session-id').value")
    return page.evaluate("""(sid) => new Promise((resolve, reject) => {
        const es = new EventSource('/api/sessions/' + sid + '/events');
        setTimeout(() => { es.close(); reject(new Error('no frame')); }, 5000);
        es.addEventListener('frame', (e) => { es.close(); resolve(JSON.parse(e.data)); });
    })""", sid)


def shown(page, selector: str) -> str:
    return page.evaluate(f"document.querySelector({json.dumps(selector)})?.textContent ?? null")


def expect(page, selector: str, value: float, timeout: float = 5.0) -> None:
    """The element shows `value` to 3 significant figures (the panels refresh ~10×/s)."""
    want = fmt3(value)
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if shown(page, selector) == want:
            return
        time.sleep(0.05)
    assert shown(page, selector) == want, (selector, want)


TEX = "[...document.querySelectorAll('#mx-blocks annotation')].map(a => a.textContent).join('\\n')"


def tex_sources(page, containing: str) -> str:
    """The TeX behind the maths panel's typeset formulas (KaTeX keeps it in MathML),
    once the formula `containing` is typeset."""
    wait_until(page, f"({TEX}).includes({json.dumps(containing)})", 10)
    return page.evaluate(TEX)


def next_step(page, expect_title: str) -> dict:
    page.locator("#st-next").click()
    wait_until(page, f"document.getElementById('st-title').textContent.includes({json.dumps(expect_title)})")
    return server_frame(page)


def close(a: float, b: float) -> bool:
    return abs(a - b) <= 1e-3 * max(abs(a), abs(b), 1e-12)


@pytest.mark.parametrize("regularization", ["none", "l1", "l2"])
@pytest.mark.parametrize(("output", "loss", "dataset"), COMBINATIONS)
def test_stepper_and_maths_show_the_servers_numbers(page, live_server, output, loss, dataset, regularization):
    query = (f"seed=1&layers=3&dataset={dataset}&output={output}&loss={loss}&regularization={regularization}"
             f"&lambda={LAMBDA}&optimizer=sgd&batch_size=10")
    page.goto(f"{live_server}/?{query}")
    page.wait_for_selector("#diagram [data-kind=node]")
    page.locator("#panels").scroll_into_view_if_needed()
    wait_until(page, "document.querySelector('#mx-blocks .pn-mx-block') !== null", 15)
    summary = api(page, "")
    assert summary["config"]["output"] == output and summary["config"]["loss"] == loss
    reg = regularization
    # The session is not in the course's setting (mini-batch SGD): the stepper says so.
    assert "full-batch gradient descent" in page.locator("#st-note").inner_text()

    # 2. forward propagation, layers 2 and 3 (sizes n-3-k)
    f = next_step(page, "Forward propagation — layer 2 of 3")
    expect(page, "#st-numbers [data-q=z-0] .pn-num", f["focus"]["z"][1][0])
    expect(page, "#st-numbers [data-q=a-0] .pn-num", f["focus"]["a"][1][0])
    f = next_step(page, "Forward propagation — layer 3 of 3")
    L = len(f["sizes"]) - 1
    assert f["maths"]["output"] == output and f["maths"]["loss"] == loss and f["maths"]["regularization"] == reg

    # 3. the cost: the example's own cost, the penalty, J over the training set
    f = next_step(page, "Step 3 of 6 · Cost J")
    summary = api(page, "")
    m = f["maths"]
    assert f["focus"]["cost"] is not None
    expect(page, "#st-numbers [data-q=cost] .pn-num", f["focus"]["cost"])
    expect(page, "#st-numbers [data-q=J] .pn-num", f["loss"]["train"])
    assert close(f["loss"]["train"], summary["loss"]["train"])
    expect(page, "#mx-blocks [data-term=cost] .pn-num", f["focus"]["cost"])
    expect(page, "#mx-blocks [data-term=J] .pn-num", summary["loss"]["train"])
    expect(page, "#mx-blocks [data-term=m_train] .pn-num", summary["train_size"])
    text = page.locator("#st-text").inner_text()
    assert f"m_train = {summary['train_size']}" in text
    if reg == "none":
        assert page.locator("#mx-blocks [data-term=penalty]").count() == 0
    else:
        assert m["penalty"] > 0
        expect(page, "#st-numbers [data-q=penalty] .pn-num", m["penalty"])
        expect(page, "#mx-blocks [data-term=penalty] .pn-num", m["penalty"])
        assert close(m["penalty"], summary["penalty"])
    tex = tex_sources(page, "J =")
    assert ("|W|" in tex) == (reg == "l1") and ("W^2" in tex) == (reg == "l2"), tex
    assert ("\\tfrac12" in tex) == (loss == "mse"), tex

    # 4. backpropagation at the output: δ (and a − y, g′ where they apply), D, λ, both m
    f = next_step(page, f"Backpropagation — δ of layer {L + 1} of {L + 1}")
    params = api(page, "/params")
    m = f["maths"]
    fo = f["focus"]
    expect(page, "#st-numbers [data-q=delta-0] .pn-num", fo["delta"][L][0])
    delta_block = "#mx-blocks .pn-mx-block:nth-child(1)"
    grad_block = "#mx-blocks .pn-mx-block:nth-child(2)"
    expect(page, f"{delta_block} [data-term=delta] .pn-num", fo["delta"][L][0])
    expect(page, f"{delta_block} [data-term=error] .pn-num", fo["error"][0])
    squashed_mse = loss == "mse" and output == "sigmoid"
    if squashed_mse:
        expect(page, "#st-numbers [data-q=gprime-0] .pn-num", fo["g_prime"][L][0])
        expect(page, "#st-numbers [data-q=error-0] .pn-num", fo["error"][0])
        expect(page, f"{delta_block} [data-term=gprime] .pn-num", fo["g_prime"][L][0])
        assert "(a⁽³⁾ − y) ⊙ g′(z⁽³⁾)" in page.locator("#st-text").inner_text()
    elif loss == "cross_entropy" or output == "linear":
        assert "δ⁽³⁾ = a⁽³⁾ − y" in page.locator("#st-text").inner_text()
    tex = tex_sources(page, "D^{(2)}")
    assert ("g'" in tex.split("D^{(2)}")[0]) == squashed_mse, tex
    assert ("\\operatorname{sign}" in tex) == (reg == "l1"), tex
    D = f["grads"]["W"][L - 1][0][0]
    expect(page, "#st-numbers [data-q=D] .pn-num", D)
    expect(page, f"{grad_block} [data-term=grad] .pn-num", D)
    expect(page, f"{grad_block} [data-term=w] .pn-num", params["weights"][L - 1][0][0])
    expect(page, f"{grad_block} [data-term=m_batch] .pn-num", m["m_batch"])
    assert m["m_batch"] == 10 and m["m_train"] == summary["train_size"]
    if reg != "none":
        expect(page, f"{grad_block} [data-term=lambda] .pn-num", LAMBDA)
        expect(page, f"{grad_block} [data-term=m_train] .pn-num", m["m_train"])
    else:
        assert page.locator(f"{grad_block} [data-term=lambda]").count() == 0

    # 4. one layer back: the hidden unit's δ and the server's g′(z)
    f = next_step(page, f"Backpropagation — δ of layer {L} of {L + 1}")
    expect(page, "#st-numbers [data-q=delta-0] .pn-num", f["focus"]["delta"][L - 1][0])
    expect(page, "#st-numbers [data-q=gprime-0] .pn-num", f["focus"]["g_prime"][L - 1][0])
    assert "NaN" not in page.locator("#panels").inner_text()
    assert page.errors == []
