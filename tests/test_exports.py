"""Timeline, export/import and static-file serving."""

import gzip
import subprocess
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent


def create(client, **config) -> str:
    return client.post("/api/sessions", json=config).get_json()["id"]


def test_timeline_views_the_past_without_changing_the_present(client):
    sid = create(client, seed=1)
    for _ in range(4):
        client.post(f"/api/sessions/{sid}/step", json={"unit": "epoch", "count": 2})
    steps = client.get(f"/api/sessions/{sid}/timeline").get_json()["steps"]
    assert steps == [0, 50, 100, 150, 200]
    now = client.get(f"/api/sessions/{sid}").get_json()
    past = client.get(f"/api/sessions/{sid}/timeline/1").get_json()
    assert past["step"] == 50 and past["loss"]["train"] > now["loss"]["train"]
    after = client.get(f"/api/sessions/{sid}").get_json()
    assert after["step"] == now["step"] and after["loss"] == now["loss"]
    assert client.get(f"/api/sessions/{sid}/history").get_json()["step"] == steps
    assert client.get(f"/api/sessions/{sid}/timeline/9").status_code == 400


def test_resume_from_here_restores_that_state(client):
    sid = create(client, seed=1)
    client.post(f"/api/sessions/{sid}/step", json={"unit": "epoch", "count": 2})
    params_at_50 = client.get(f"/api/sessions/{sid}/params").get_json()
    client.post(f"/api/sessions/{sid}/step", json={"unit": "epoch", "count": 4})
    body = client.post(f"/api/sessions/{sid}/timeline/1/restore").get_json()
    assert body["step"] == 50
    assert client.get(f"/api/sessions/{sid}/params").get_json() == params_at_50
    assert client.get(f"/api/sessions/{sid}/history").get_json()["step"] == [0, 50]


def test_weights_json_round_trip_through_download_and_put(client):
    a, b = create(client, seed=1, layers=[3]), create(client, seed=2, layers=[3])
    client.post(f"/api/sessions/{a}/step", json={"unit": "epoch", "count": 3})
    r = client.get(f"/api/sessions/{a}/params?download=1")
    assert "attachment" in r.headers["Content-Disposition"]
    assert client.put(f"/api/sessions/{b}/params", data=r.data, content_type="application/json").status_code == 200
    assert client.get(f"/api/sessions/{b}/params").get_json() == client.get(f"/api/sessions/{a}/params").get_json()


def test_loss_history_csv(client):
    sid = create(client, seed=1)
    client.post(f"/api/sessions/{sid}/step", json={"unit": "epoch", "count": 2})
    lines = client.get(f"/api/sessions/{sid}/history.csv").get_data(as_text=True).splitlines()
    assert lines[0] == "step,train,test,accuracy_train,accuracy_test"
    assert [line.split(",")[0] for line in lines[1:]] == ["0", "50"]


def test_exported_python_script_rebuilds_the_network(client, tmp_path):
    sid = create(client, seed=1, layers=[3])
    client.post(f"/api/sessions/{sid}/step", json={"unit": "epoch", "count": 3})
    script = tmp_path / "net.py"
    script.write_bytes(client.get(f"/api/sessions/{sid}/export.py").data)
    check = script.read_text() + (
        "\nimport json, sys\n"
        "print(json.dumps({'w': [W.tolist() for W in net.weights], 'b': [b.tolist() for b in net.biases]}))\n")
    script.write_text(check)
    # Anywhere with only NumPy: a folder outside the repository, no PYTHONPATH.
    out = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, cwd=tmp_path,
                         env={"PATH": "/usr/bin:/bin"}, timeout=30)
    assert out.returncode == 0, out.stderr
    import json
    rebuilt = json.loads(out.stdout.splitlines()[-1])
    params = client.get(f"/api/sessions/{sid}/params").get_json()
    assert rebuilt["w"] == params["weights"] and rebuilt["b"] == params["biases"]


def test_static_files_are_gzipped_versioned_and_cached(client):
    page = client.get("/").get_data(as_text=True)
    assert "/static/js/main.js?v=" in page
    url = page.split('"/static/js/main.js?v=')[1].split('"')[0]   # preloaded; boot.js imports it
    r = client.get(f"/static/js/main.js?v={url}", headers={"Accept-Encoding": "gzip"})
    assert r.headers["Content-Encoding"] == "gzip"
    assert "immutable" in r.headers["Cache-Control"]
    assert b"SessionStream" in gzip.decompress(r.data)
    plain = client.get("/static/js/main.js")
    assert plain.headers["Cache-Control"] == "no-cache" and "Content-Encoding" not in plain.headers
    assert client.get("/static/js/main.js", headers={"If-None-Match": plain.headers["ETag"]}).status_code == 304
    assert client.get("/static/../app/__init__.py").status_code == 404


def test_module_imports_are_versioned_and_follow_edits(app, client, tmp_path):
    body = client.get("/static/js/main.js").get_data(as_text=True)
    assert '"./diagram.js?v=' in body and '"./panels/index.js?v=' in body
    from app.web.assets import AssetStore

    (tmp_path / "a.js").write_text('import { b } from "./b.js";\n')
    (tmp_path / "b.js").write_text("export const b = 1;\n")
    assets = AssetStore(tmp_path)
    first = assets.get("a.js")
    (tmp_path / "b.js").write_text("export const b = 2;\n")
    second = assets.get("a.js")
    assert first.version != second.version            # a dependency's edit changes the importer's URL
    assert assets.get("b.js").version in second.body.decode()


def test_page_and_json_are_gzipped_and_the_page_carries_its_first_frame(client):
    r = client.get("/", headers={"Accept-Encoding": "gzip"})
    assert r.headers["Content-Encoding"] == "gzip"
    html = gzip.decompress(r.data).decode()
    frame_json = html.split('<script type="application/json" id="first-frame">')[1].split("</script>")[0]
    import json
    frame = json.loads(frame_json)
    assert frame["sizes"] == [2, 4, 2, 1] and frame["step"] == 0
    # Nothing but boot.js is requested before the first paint; the rest is listed for it.
    after = json.loads(html.split('<script type="application/json" id="after-paint">')[1].split("</script>")[0])
    assert any(u.startswith("/static/js/diagram.js?v=") for u in after["modules"])
    assert [u.split("?")[0] for u in after["styles"]] == ["/static/css/check.css", "/static/css/panels.css"]
    assert after["scripts"][0].startswith("/static/vendor/htmx-")
    assert "modulepreload" not in html and '<link rel="stylesheet"' not in html and "<script src=" not in html
    assert 'data-session="' not in html                 # a page load holds no session
    sid = client.post("/api/sessions", json={}).get_json()["id"]
    r = client.get(f"/api/sessions/{sid}/data", headers={"Accept-Encoding": "gzip"})
    assert r.headers["Content-Encoding"] == "gzip" and json.loads(gzip.decompress(r.data))["train"]
    assert "Content-Encoding" not in client.get(f"/api/sessions/{sid}/data").headers


def test_history_stays_bounded_but_spans_the_whole_run():
    from types import SimpleNamespace

    from app.training.history import MAX_POINTS, MAX_SNAPSHOTS, History

    h = History(interval=0.0)
    W = [np.zeros((2, 2))]
    stats = {"loss": {"train": 1.0, "test": None}, "accuracy": None}
    for step in range(10 * MAX_POINTS):
        h.add(step, stats)
        h.snapshot(SimpleNamespace(step=step, weights=W))    # the history reads a moment's step
    payload = h.payload()
    assert len(payload["step"]) <= MAX_POINTS and payload["step"][0] == 0
    assert payload["step"][-1] > 9 * MAX_POINTS and payload["test"][0] is None
    steps = h.timeline()
    assert len(steps) <= MAX_SNAPSHOTS and steps[0] == 0 and steps[-1] > 9 * MAX_POINTS


def test_exported_script_reproduces_predictions_on_raw_rows_of_an_upload(client, tmp_path):
    sid = create(client, seed=2)
    data = (ROOT / "tests" / "data" / "iris_semicolon.csv").read_bytes()
    assert client.post(f"/api/sessions/{sid}/upload", data=data).status_code == 200
    client.post(f"/api/sessions/{sid}/step", json={"unit": "epoch", "count": 20})
    script = tmp_path / "net.py"
    script.write_bytes(client.get(f"/api/sessions/{sid}/export.py").data)
    assert "Inputs ARE standardised" in script.read_text()
    out = subprocess.run([sys.executable, str(script), str(ROOT / "tests" / "data" / "iris_semicolon.csv")],
                         capture_output=True, text=True, cwd=tmp_path, env={"PATH": "/usr/bin:/bin"}, timeout=30)
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert len(lines) == 150 and lines[0].split()[-1] in ("setosa", "versicolor", "virginica")
    weights = client.get(f"/api/sessions/{sid}/params?download=1").get_json()
    assert weights["inputs"]["standardized"] is True and len(weights["inputs"]["mean"]) == 4
    assert weights["inputs"]["class_names"] == ["setosa", "versicolor", "virginica"]
