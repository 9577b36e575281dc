"""The README is the front door: it must stay true to the code."""

from pathlib import Path

from app.training import FIELDS, Limits

README = (Path(__file__).resolve().parent.parent / "README.md").read_text()


def test_every_setting_is_documented():
    for f in FIELDS:
        assert f"`{f.name}`" in README, f.name


def test_every_limit_is_documented_with_its_default():
    for name, default in Limits().__dict__.items():
        var = f"BPL_{name.upper()}"
        assert var in README, var
        assert f"| {default:g} |" in README or f"| {default} |" in README, var


def test_the_two_commands_are_there():
    assert "pip install -r requirements.txt && python -m app" in README
    assert "bash tests/run.sh" in README
    assert (Path(__file__).resolve().parent.parent / "docs" / "screenshot.png").exists()
