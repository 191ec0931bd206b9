import pytest

from lrcourse.classroom import smoke_mode


@pytest.mark.parametrize("value, expected", [("1", True), ("true", True), ("YES", True), (" on ", True),
                                             ("0", False), ("", False), ("false", False), ("off", False)])
def test_smoke_mode_values(monkeypatch, value, expected):
    monkeypatch.setenv("LRCOURSE_SMOKE", value)
    assert smoke_mode() is expected


def test_smoke_mode_unset_is_off(monkeypatch):
    monkeypatch.delenv("LRCOURSE_SMOKE", raising=False)
    assert smoke_mode() is False


def test_smoke_mode_rejects_unknown_values(monkeypatch):
    monkeypatch.setenv("LRCOURSE_SMOKE", "maybe")
    with pytest.raises(ValueError, match=r"LRCOURSE_SMOKE must be one of .* \(got LRCOURSE_SMOKE='maybe'\)"):
        smoke_mode()
