import pytest

from golive.run.target import TargetError, load_target


def test_defaults_and_overrides(tmp_path):
    (tmp_path / "golive.toml").write_text('[paths]\ndata = "market-data"\n[settings]\nexchange_calendar = "XNYS"\n')
    t = load_target(tmp_path)
    assert t.path("data") == tmp_path.resolve() / "market-data"
    assert t.path("test_results") == tmp_path.resolve() / "test-results"
    assert t.settings == {"exchange_calendar": "XNYS"}


@pytest.mark.parametrize("toml,message", [
    ('[paths]\ndata = "../../etc"\n', "points outside the workspace"),
    ('[paths]\nmarket = "x"\n', "unknown [paths] key(s) market"),
    ('[paths\n', "not valid TOML"),
    ('[paths]\ndata = 3\n', "paths.data must be a string"),
])
def test_bad_config_is_named(tmp_path, toml, message):
    (tmp_path / "golive.toml").write_text(toml)
    with pytest.raises(TargetError, match="golive.toml") as exc:
        load_target(tmp_path)
    assert message in str(exc.value)


def test_missing_target(tmp_path):
    with pytest.raises(TargetError, match="does not exist"):
        load_target(tmp_path / "nope")
    (tmp_path / "f").write_text("x")
    with pytest.raises(TargetError, match="not a directory"):
        load_target(tmp_path / "f")
