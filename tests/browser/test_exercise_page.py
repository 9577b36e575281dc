"""Check your own backprop and predict-then-see, driven in Chromium as a student would:
download the problem from the page, compute the gradients with our own NumPy (right, and
with each classic mistake), bring them back by paste or as Octave CSV files, and read
the verdict on the page and on the diagram; then answer prediction prompts while
stepping phase by phase, right and wrong, and watch the tally."""

import io
import json
import zipfile

import numpy as np
import pytest

from tests.browser.test_page import open_page, wait_until
from tests.conftest import ARTIFACTS
from tests.test_exercise import GRADIENT_MISTAKES, arrays, body, student

QUERY = "seed=1&regularization=l2&lambda=1"

RECORD_MARKS = """() => { window.__marks = [];
  document.addEventListener('bpl:marks', (e) => window.__marks.push(e.detail)); }"""


def open_check(page, base):
    open_page(page, base, QUERY)
    page.evaluate(RECORD_MARKS)
    page.get_by_role("tab", name="Why not use the numerical gradient instead of backprop?").click()
    page.locator("#ck").scroll_into_view_if_needed()


def download(page, selector: str, tmp_path):
    with page.expect_download() as info:
        page.click(selector)
    path = tmp_path / info.value.suggested_filename
    info.value.save_as(path)
    return path


def submit(page, payload: dict | None = None) -> None:
    if payload is not None:
        page.fill("#ck-paste", json.dumps(payload))
    page.evaluate("document.getElementById('ck-verdict').textContent = ''")
    page.click("#ck-submit")
    wait_until(page, "document.getElementById('ck-verdict').textContent !== ''")


def last_marks(page) -> dict:
    return page.evaluate("window.__marks[window.__marks.length - 1]")


def test_a_student_checks_right_and_wrong_gradients_on_the_page(page, live_server, tmp_path):
    open_check(page, live_server)
    problem = json.loads(download(page, "#ck-dl-json", tmp_path).read_text())
    assert problem["m"] == 100 and problem["lambda"] == 1.0

    J, grads = student(*arrays(problem), problem["activation"])
    submit(page, body(J, grads))
    assert page.locator("#ck-verdict").inner_text().startswith("✓")
    assert page.locator("#ck-diagnosis li").count() == 0
    assert "✓" in page.locator("#ck-cost-line").inner_text()
    assert last_marks(page) == {"edges": [], "nodes": []}

    for mistake in GRADIENT_MISTAKES:
        J, grads = student(*arrays(problem), problem["activation"], mistake=mistake)
        submit(page, body(J, grads))
        assert page.locator("#ck-verdict").inner_text().startswith("✗"), mistake
        codes = page.locator("#ck-diagnosis li").evaluate_all("els => els.map(e => e.dataset.code)")
        assert codes == [mistake]
        item = page.locator(f"#ck-diagnosis li[data-code={mistake}]")
        wait_until(page, f"!!document.querySelector('#ck-diagnosis li[data-code={mistake}] .katex')")
        assert item.locator(".katex").count() == 1          # the formula they got wrong, typeset
        marks = last_marks(page)
        assert marks["edges"] or marks["nodes"], mistake   # what differs is drawn on the diagram
        if mistake == "regularized_bias":
            assert marks["edges"] == [] and all(l >= 1 for l, _ in marks["nodes"])
        if mistake in ("missing_g_prime", "wrong_activation_derivative"):
            assert {l for l, _, _ in marks["edges"]} == {0, 1}   # not the output layer's weights
        if page.evaluate("!!document.querySelector('#diagram .nd-mark')"):
            assert page.locator("#diagram .nd-mark").count() == len(marks["edges"]) + len(marks["nodes"])
    page.locator("#ck-result").screenshot(path=str(ARTIFACTS / "check-result.png"))
    page.locator("#diagram").screenshot(path=str(ARTIFACTS / "check-diagram.png"))
    page.click("#ck-clear")
    assert last_marks(page) == {"edges": [], "nodes": []}
    assert page.errors == []


def test_octave_csv_files_round_trip_through_the_page(page, live_server, tmp_path):
    open_check(page, live_server)
    z = zipfile.ZipFile(download(page, "#ck-dl-csv", tmp_path))
    read = lambda name: np.loadtxt(io.StringIO(z.read(name).decode()), delimiter=",", ndmin=2)   # noqa: E731
    n = len([f for f in z.namelist() if f.startswith("Theta")])
    thetas = [read(f"Theta{l}.csv") for l in range(1, n + 1)]
    info = dict(line.split(",") for line in z.read("problem.txt").decode().splitlines())
    J, grads = student(thetas, read("X.csv"), read("Y.csv"), float(info["lambda"]), info["activation"])
    files = []
    for l, g in enumerate(grads, start=1):      # dlmwrite(…, 'precision', '%.17g')
        path = tmp_path / f"Theta{l}_grad.csv"
        path.write_text("\n".join(",".join(f"{v:.17g}" for v in row) for row in g) + "\n")
        files.append(str(path))
    page.set_input_files("#ck-files", files[::-1])   # any order: sorted by the layer number
    page.fill("#ck-cost", repr(float(J)))
    submit(page)
    assert page.locator("#ck-verdict").inner_text().startswith("✓"), page.locator("#ck-result").inner_text()
    assert page.locator("#ck-layers tbody tr").count() == n

    # a CSV with a slip in it: the bias column regularised, in Θ layout
    _, wrong = student(thetas, read("X.csv"), read("Y.csv"), float(info["lambda"]), info["activation"],
                       mistake="regularized_bias")
    for path, g in zip(files, wrong):
        open(path, "w").write("\n".join(",".join(f"{v:.17g}" for v in row) for row in g) + "\n")
    page.set_input_files("#ck-files", files)
    page.fill("#ck-cost", "")
    submit(page)
    assert page.locator("#ck-diagnosis li").evaluate_all("els => els.map(e => e.dataset.code)") == ["regularized_bias"]
    assert page.errors == []


def test_a_wrong_shape_is_said_next_to_the_box(page, live_server):
    open_check(page, live_server)
    page.fill("#ck-paste", json.dumps({"weights": [[[1.0, 2.0]]] * 3, "biases": [[0.0]] * 3}))
    page.click("#ck-submit")
    wait_until(page, "document.getElementById('ck-status').textContent.includes('expected shape')")
    page.fill("#ck-paste", "{not json")
    page.click("#ck-submit")
    wait_until(page, "document.getElementById('ck-status').textContent.includes('not valid JSON')")


# -- predict, then see ----------------------------------------------------------------------
RECORD_FRAMES = """() => { window.__frame = null;
  document.addEventListener('bpl:frame', (e) => { window.__frame = e.detail; }); }"""


def step_phase(page, phase: str, layer=None) -> None:
    """Press → (step by phase) and wait for the frame of that stop."""
    page.locator("body").click(position={"x": 5, "y": 5})
    page.keyboard.press("ArrowRight")
    want = "null" if layer is None else str(layer)
    wait_until(page, f"window.__frame && window.__frame.cursor.phase === '{phase}' && "
                     f"(window.__frame.cursor.layer ?? null) === {want}")


def walk_to_cost(page, layers: int) -> None:
    for l in range(1, layers + 1):
        step_phase(page, "forward", l)
    step_phase(page, "cost")


def card_state(page) -> str | None:
    return page.evaluate("(c => c.hidden ? null : c.dataset.state)(document.getElementById('pd-card'))")


@pytest.fixture
def stepping(page, live_server):
    open_page(page, live_server, "seed=1")
    page.evaluate(RECORD_FRAMES)
    page.select_option("#step-unit", "phase")
    return page


def test_predictions_are_off_by_default(stepping):
    page = stepping
    assert not page.locator("#pd-toggle").is_checked()
    walk_to_cost(page, 3)
    assert card_state(page) is None


def test_predict_the_sign_of_delta_right_and_wrong_then_the_tally(stepping, tmp_path):
    page = stepping
    page.locator("body").click(position={"x": 5, "y": 5})
    page.keyboard.press("p")                       # the toggle's key
    assert page.locator("#pd-toggle").is_checked()
    results, signs = [], []
    for attempt in range(2):
        walk_to_cost(page, 3)                      # sizes 2-4-2-1: forward 1..3, then the cost
        wait_until(page, "document.getElementById('pd-card').dataset.state === 'asking'")
        assert page.locator("#pd-card").get_attribute("data-kind") == "delta_out"
        assert "δ" in page.locator("#pd-question").inner_text()
        assert page.locator(".pd-choice.pd-correct").count() == 0   # the answer is not given away
        if attempt == 0:
            page.screenshot(path=str(ARTIFACTS / "predict-asking.png"))
            page.keyboard.press("1")               # "positive"
        else:                                      # the same pass again: answer the other way round
            wrong = "-" if signs[0] == "+" else "+"
            right = signs[0]
            pick = wrong if results[0] == "right" else right
            page.click(f".pd-choice[data-choice='{pick}']")
        assert card_state(page) == "answered"
        page.click("#pd-see")                      # step to see: the backward pass of the output layer
        wait_until(page, "document.getElementById('pd-card').dataset.state === 'revealed'")
        results.append(page.locator("#pd-answer").get_attribute("data-result"))
        answer = page.locator("#pd-answer").inner_text()
        assert "δ = " in answer and "a − y" in page.locator("#pd-why").inner_text()
        # the number shown is the frame's δ of the output unit
        delta = page.evaluate("window.__frame.focus.delta[3][0]")
        assert fmt3(delta) in answer
        sign = "+" if delta > 0 else "-"
        assert page.locator(".pd-choice.pd-correct").get_attribute("data-choice") == sign
        signs.append(sign)
        if attempt == 0:
            page.click("#btn-reset")               # the same seed: the same pass, the same δ
            wait_until(page, "window.__frame && window.__frame.step === 0 && window.__frame.cursor.phase === 'idle'")
    assert signs[0] == signs[1]
    assert sorted(results) == ["right", "wrong"]
    assert page.locator("#pd-tally").inner_text() == "1 / 2"
    stored = json.loads(page.evaluate("localStorage.getItem('bpl-predict')"))
    assert (stored["right"], stored["asked"], stored["on"]) == (1, 2, True)
    assert page.errors == []


def test_stepping_on_without_answering_reveals_and_does_not_count(stepping):
    page = stepping
    page.check("#pd-toggle")
    walk_to_cost(page, 3)
    wait_until(page, "document.getElementById('pd-card').dataset.state === 'asking'")
    step_phase(page, "backward", 3)                # never blocking: → just goes on
    wait_until(page, "document.getElementById('pd-card').dataset.state === 'revealed'")
    assert page.locator("#pd-answer").get_attribute("data-result") == "skipped"
    assert page.locator("#pd-tally").inner_text() == "0 / 0"


def fmt3(x: float) -> str:
    """The page's 3 significant figures for a number in [0.001, 1000)."""
    exp = int(np.floor(np.log10(abs(float(f"{x:.2e}")))))
    return f"{x:.{2 - exp}f}".replace("-", "\u2212")


def test_edge_and_loss_questions_reveal_the_update(stepping):
    page = stepping
    page.evaluate(RECORD_MARKS)
    page.check("#pd-toggle")
    asked, where = {}, {}

    def look(step, stop):
        """A question open at this stop is asked before the step that reveals it: note and answer it."""
        if card_state(page) == "asking" and step not in asked:
            kind = page.locator("#pd-card").get_attribute("data-kind")
            asked[step], where[step] = kind, stop
            if kind == "edge":                     # the candidates are marked on the diagram
                edges = last_marks(page)["edges"]
                choices = page.locator(".pd-choice").evaluate_all("els => els.map(e => e.dataset.choice)")
                assert [f"{i},{j}" for _, i, j in edges] == choices
                (l,) = {l for l, _, _ in edges}    # one layer; three of its weights, or all if fewer
                W = page.evaluate(f"window.__frame.weights[{l}]")
                assert len(choices) == min(3, len(W) * len(W[0]))
            page.keyboard.press("1")

    for step in range(4):                          # one question a pass: δ out, δ hidden, edge, J
        walk_to_cost(page, 3)
        look(step, "cost")                         # δ out: asked at the cost, revealed by backward 3
        for layer in (3, 2, 1):
            step_phase(page, "backward", layer)
            look(step, f"backward {layer}")
        step_phase(page, "update")
        if asked[step] in ("edge", "loss"):
            wait_until(page, "document.getElementById('pd-card').dataset.state === 'revealed'")
            text = page.locator("#pd-answer").inner_text()
            if asked[step] == "loss":
                assert "J went from" in text and fmt3(page.evaluate("window.__frame.loss.train")) in text
            else:
                assert "changed most" in text
                assert last_marks(page) == {"edges": [], "nodes": []}
    assert asked == {0: "delta_out", 1: "delta_hidden", 2: "edge", 3: "loss"}
    assert where == {0: "cost", 1: "backward 3", 2: "backward 1", 3: "backward 1"}
    assert page.locator("#pd-tally").inner_text().endswith("/ 4")
    assert page.errors == []
