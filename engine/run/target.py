"""The target workspace: the trading team's repository that golive audits.

``golive.toml`` at the workspace root may override where artifacts live::

    [paths]
    data = "market-data"          # default: data
    records = "records"
    logs = "logs"
    config = "config"
    tests = "tests"
    test_results = "test-results"
    links = "golive-links.yaml"   # the reviewed links map file (golive link --write-map)

    [settings]                    # free settings passed to every check as ctx.settings
    exchange_calendar = "XNYS"

Paths are relative to the workspace root; a path that escapes the root is refused, so a
hostile ``golive.toml`` cannot point checks at files outside the audited workspace.
"""
from __future__ import annotations

import tomllib
from pathlib import Path

from golive.model import Target

ARTIFACT_KINDS = ("data", "records", "logs", "config", "tests", "test_results", "links")

CONFIG_NAME = "golive.toml"


class TargetError(ValueError):
    """The target workspace cannot be used (missing folder, bad golive.toml)."""


def load_target(root: Path | str) -> Target:
    root = Path(root).expanduser()
    if not root.exists():
        raise TargetError(f"target workspace {root} does not exist: pass --target DIR with the trading repository")
    if not root.is_dir():
        raise TargetError(f"target {root} is not a directory: pass the workspace folder, not a file")
    root = root.resolve()
    config: dict = {}
    cfg_file = root / CONFIG_NAME
    if cfg_file.exists():
        try:
            config = tomllib.loads(cfg_file.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise TargetError(f"{cfg_file}: not valid TOML ({exc}); fix or remove it") from exc
    paths_cfg = config.get("paths", {})
    if not isinstance(paths_cfg, dict):
        raise TargetError(f"{cfg_file}: [paths] must be a table of kind = \"folder\"")
    unknown = sorted(set(paths_cfg) - set(ARTIFACT_KINDS))
    if unknown:
        raise TargetError(f"{cfg_file}: unknown [paths] key(s) {', '.join(unknown)}; known: {', '.join(ARTIFACT_KINDS)}")
    paths: dict[str, Path] = {}
    for kind, rel in paths_cfg.items():
        if not isinstance(rel, str):
            raise TargetError(f"{cfg_file}: paths.{kind} must be a string")
        full = (root / rel).resolve()
        if full != root and root not in full.parents:
            raise TargetError(f"{cfg_file}: paths.{kind} = {rel!r} points outside the workspace")
        paths[kind] = full
    settings = config.get("settings", {})
    if not isinstance(settings, dict):
        raise TargetError(f"{cfg_file}: [settings] must be a table")
    # only configured folders go into ``paths``: an unconfigured "tests" means "anywhere"
    return Target(root=root, paths=paths, settings=settings)
