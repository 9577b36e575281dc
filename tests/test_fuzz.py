"""Property-based fuzzing of every route: random JSON, forms and bodies must never
produce a 5xx, and every 4xx names the field and the problem."""

import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.training import FIELDS

SCALARS = st.one_of(
    st.none(), st.booleans(), st.integers(-(2**70), 2**70),
    st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=30),
    st.sampled_from(["NaN", "Infinity", "-1", "1e309", "0", "", "tanh", "circle", "x1", "\u202e\u0000",
                     "auto", "4,2", "phase", "🧠"]),
)
JSON = st.recursive(SCALARS, lambda children: st.one_of(
    st.lists(children, max_size=6), st.dictionaries(st.text(max_size=12), children, max_size=6)),
    max_leaves=25)
KEYS = st.sampled_from([f.name for f in FIELDS] + ["unit", "count", "index", "layer", "unit", "h", "to",
                                                   "from", "value", "weights", "biases", "max_params",
                                                   "bogus", ""])
PAYLOAD = st.one_of(st.dictionaries(KEYS, JSON, max_size=6), JSON)

ROUTES = [("post", ""), ("get", ""), ("patch", ""), ("post", "/run"), ("post", "/pause"),
          ("post", "/reset"), ("post", "/regenerate"), ("post", "/step"), ("post", "/focus"),
          ("post", "/weight"), ("post", "/gradcheck"), ("post", "/probe"), ("get", "/params"),
          ("put", "/params"), ("get", "/data"), ("get", "/history")]
FORM_ROUTES = ["/ui/config", "/ui/layers", "/ui/step", "/ui/toggle", "/ui/reset", "/ui/regenerate"]


def check(response) -> None:
    assert response.status_code < 500, response.get_data(as_text=True)[:300]
    if response.status_code >= 400 and response.is_json:
        error = response.get_json()["error"]
        assert error["message"] and "field" in error
        if response.status_code in (400, 413):     # bad input: say which field
            assert error["field"], error


def settings_for(n: int):
    return settings(max_examples=n, deadline=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])


@settings_for(1000)
@given(route=st.sampled_from(ROUTES), payload=PAYLOAD, as_text=st.booleans())
def test_api_routes_never_500(client, route, payload, as_text):
    method, path = route
    sid = client.post("/api/sessions", json={"seed": 1, "points": 40}).get_json()["id"]
    url = "/api/sessions" if (method, path) == ("post", "") else f"/api/sessions/{sid}{path}"
    try:
        body = json.dumps(payload, allow_nan=True)
    except (TypeError, ValueError):
        body = "{"
    kwargs = {"data": body, "content_type": "text/plain" if as_text else "application/json"}
    if method == "post" and path == "/step" and isinstance(payload, dict):
        payload.setdefault("count", 1)
    check(getattr(client, method)(url, **kwargs))
    client.delete(f"/api/sessions/{sid}")


@settings_for(600)
@given(route=st.sampled_from(FORM_ROUTES),
       form=st.dictionaries(KEYS, st.one_of(st.text(max_size=20), st.sampled_from(["4,2", "", "nan", "1e9"])),
                            max_size=8),
       features=st.lists(st.text(max_size=6), max_size=4))
def test_form_routes_never_500(client, route, form, features):
    sid = client.post("/api/sessions", json={"seed": 1, "points": 40}).get_json()["id"]
    data = {**form, "session": sid}
    if features:
        data["features"] = features
        data["features-present"] = "1"
    check(client.post(route, data=data))
    client.delete(f"/api/sessions/{sid}")


@settings_for(400)
@given(body=st.binary(max_size=200), content_type=st.sampled_from(
    ["application/json", "text/plain", "application/x-www-form-urlencoded", "multipart/form-data",
     "application/octet-stream"]))
def test_junk_bodies_never_500(client, body, content_type):
    sid = client.post("/api/sessions", json={"points": 40}).get_json()["id"]
    for path in ("", "/step", "/params", "/probe"):
        method = "patch" if path == "" else ("put" if path == "/params" else "post")
        check(getattr(client, method)(f"/api/sessions/{sid}{path}", data=body, content_type=content_type))
    check(client.post("/api/sessions", data=body, content_type=content_type))
    client.delete(f"/api/sessions/{sid}")


def test_deep_nesting_and_huge_arrays(client):
    sid = client.post("/api/sessions", json={}).get_json()["id"]
    deep = "[" * 5000 + "]" * 5000
    for path, method in (("", "patch"), ("/params", "put")):
        check(getattr(client, method)(f"/api/sessions/{sid}{path}", data=deep, content_type="application/json"))
    huge = {"weights": [[[0.0] * 1000] * 100], "biases": [[0.0] * 1000]}
    r = client.put(f"/api/sessions/{sid}/params", json=huge)
    assert r.status_code == 400
    r = client.patch(f"/api/sessions/{sid}", json={"layers": list(range(10_000))})
    assert r.status_code == 400 and r.get_json()["error"]["field"] == "layers"
