"""Real files through the real page: a semicolon-separated export with a quoted header
and text class labels uploads as it is, trains, and shows the projection in the
boundary chart's place and the confusion matrix with the class names; a bad file gets
one sentence next to the control and the data in use stays; a shipped data set that is
not 2-D never shows an empty boundary chart."""

from pathlib import Path

from tests.browser.test_page import open_page, wait_until

DATA = Path(__file__).resolve().parent.parent / "data"


def upload(page, path: Path, target: str = "") -> None:
    if not page.locator("#csv-file").is_visible():
        page.locator(".upload-box summary").click()
    page.set_input_files("#csv-file", str(path))
    page.locator("#csv-target").fill(target)
    page.get_by_role("button", name="Upload and train").click()


def status(page) -> str:
    return page.locator("#upload-status").inner_text()


def test_semicolon_file_with_text_labels_trains_and_shows_projection_and_confusion(page, live_server):
    open_page(page, live_server, "seed=3")
    assert "rows" in page.locator("#upload-limits").text_content()      # limits stated up front
    upload(page, DATA / "iris_semicolon.csv")
    wait_until(page, "document.getElementById('upload-status').textContent.includes('Training on')")
    text = status(page)
    assert "separated by semicolons" in text and "setosa, versicolor, virginica" in text
    page.locator(".upload-scale summary").click()                          # the standardisation constants
    assert "Sepal.Length" in page.locator(".upload-scale table").inner_text()
    wait_until(page, "location.search.includes('dataset=csv')")

    # The boundary chart would be empty (4 inputs): the projection takes its place.
    wait_until(page, "!!document.querySelector('#projection-chart .main-svg')")
    assert page.locator("#boundary-chart").is_hidden()
    assert page.locator("#projection-chart").is_visible()
    legend = page.locator("#projection-chart .legendtext").all_text_contents()
    assert legend[:3] == ["setosa", "versicolor", "virginica"]
    assert page.locator("#projection-confusion").is_visible()
    assert "setosa" in page.locator("#projection-confusion").text_content()

    page.select_option("#step-unit", "epoch")
    for _ in range(30):
        page.locator("#btn-step").click()
    wait_until(page, "Number(document.getElementById('epoch').textContent) >= 20", timeout=20)
    wait_until(page, "document.querySelector('#projection-classes')?.textContent.includes('%')", timeout=10)
    classes = page.locator("#projection-classes").inner_text()
    assert all(name in classes for name in ("setosa", "versicolor", "virginica"))
    assert "% right" in page.locator("#projection-confusion").text_content()
    assert not page.errors


def test_bad_file_is_one_sentence_next_to_the_control_and_the_data_stays(page, live_server):
    open_page(page, live_server, "seed=3&dataset=moons")
    upload(page, DATA / "survey_gaps.csv")
    wait_until(page, "document.getElementById('upload-status').textContent.includes('previous data set')")
    message = page.locator(".upload-error").inner_text()
    assert message.startswith('Row 3, column "age" is empty')
    assert "{" not in message
    assert page.locator("#input-dataset").input_value() == "moons"
    assert page.locator("#boundary-chart").is_visible()

    page.locator("#csv-drop-empty").check()                 # the option re-reads the chosen file
    wait_until(page, "document.getElementById('upload-status').textContent.includes('Dropped 3 rows')")
    # the refused file's 400 is logged by the browser as a failed resource: that is the point
    assert [e for e in page.errors if "400" not in e] == []


def test_shipped_table_shows_a_projection_not_an_empty_boundary(page, live_server):
    open_page(page, live_server, "seed=2&dataset=wine")
    wait_until(page, "!!document.querySelector('#projection-chart .main-svg')")
    assert page.locator("#boundary-chart").is_hidden()
    assert "cultivar 1" in page.locator("#projection-chart").text_content()
    assert "mean" in page.locator("#projection-scale").inner_text()
    page.select_option("#input-dataset", "circle")
    wait_until(page, "!document.getElementById('boundary-chart').hidden")
    assert page.locator("#projection").is_hidden()
