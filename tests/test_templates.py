"""The Content-Security-Policy forbids inline script: no template may contain an inline
<script> or an on*= event handler attribute."""

import re
from pathlib import Path

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"


def test_no_inline_scripts_or_event_handlers():
    for path in TEMPLATES.rglob("*.html"):
        html = path.read_text()
        for tag in re.findall(r"<script\b[^>]*>", html):
            # a JSON data block is never executed, so the policy allows it
            assert "src=" in tag or 'type="application/json"' in tag, f"{path.name}: inline script {tag}"
        handlers = re.findall(r"\son[a-z]+\s*=", html)
        assert handlers == [], f"{path.name}: inline event handlers {handlers}"
        assert "hx-on" not in html, f"{path.name}: hx-on needs eval"


def test_every_page_is_served_with_the_policy(client):
    for path in ("/", "/healthz", "/static/js/main.js", "/api/sessions/nope"):
        assert "script-src 'self'" in client.get(path).headers["Content-Security-Policy"], path
