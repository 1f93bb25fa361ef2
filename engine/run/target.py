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

The same holds for symbolic links: :func:`confined` resolves a path and refuses one that lands
outside the (resolved) root with :class:`OutsideTarget`, whose message names the link and its
destination. ``CheckContext.record_artifact`` and the ledger's artifact copy go through it, so
``ln -s /etc/shadow config/evil.yaml`` neither feeds a check nor lands in the evidence store;
:func:`outside_links` lists every such link for the run's record. A link that stays inside the
workspace is followed as before.
"""
from __future__ import annotations

import logging
import os
import tomllib
from pathlib import Path
from typing import Iterable, TypeVar

from golive.model import Target

ARTIFACT_KINDS = ("data", "records", "logs", "config", "tests", "test_results", "links")

CONFIG_NAME = "golive.toml"


class TargetError(ValueError):
    """The target workspace cannot be used (missing folder, bad golive.toml)."""


log = logging.getLogger("golive.target")
P = TypeVar("P", str, Path)
MAX_SCANNED_ENTRIES = 200_000  # outside_links stops there: a scan must not stall a run on a huge tree
SKIPPED_DIRS = {".git", ".hg", ".svn", "node_modules", "__pycache__", ".venv", ".tox"}


class OutsideTarget(PermissionError):
    """A path under the target resolves outside it (a symbolic link out of the workspace, or
    an absolute path elsewhere): golive refuses to read or copy it."""

    def __init__(self, shown: str, destination: Path, root: Path, link: bool) -> None:
        self.path, self.destination, self.root = shown, destination, root
        what = "is a symbolic link to" if link else "resolves to"
        super().__init__(f"{shown} {what} {destination}, outside the target {root}: refused, not read "
                         "(golive never follows a path out of the audited workspace; copy the file "
                         "into the workspace if it is evidence)")


_warned: set[tuple[Path, str]] = set()


def _inside(path: Path, root: Path) -> bool:
    return path == root or root in path.parents


def confined(root: Path | str, path: Path | str) -> Path:
    """The resolved ``path`` (relative to ``root``, or absolute), if it stays inside the
    resolved ``root``; else :class:`OutsideTarget` naming the path and where it leads."""
    root = Path(root).resolve()
    given = Path(path)
    full = given if given.is_absolute() else root / given
    try:
        resolved = full.resolve()
    except (RuntimeError, OSError):  # a link loop: opening it fails on its own, it leads nowhere
        return full
    if _inside(resolved, root):
        return resolved
    lexical = Path(os.path.normpath(full.absolute()))
    link = _inside(lexical, root)  # spelled inside the root, lands outside: a link on the way
    shown = str(lexical.relative_to(root)) if link else str(given)
    if (root, shown) not in _warned:  # once per link: several checks may meet the same one
        _warned.add((root, shown))
        log.warning("%s %s %s, outside the target: refused, not read", shown,
                    "is a symbolic link to" if link else "resolves to", resolved)
    raise OutsideTarget(shown, resolved, root, link)


def inside_only(root: Path | str, paths: Iterable[P]) -> list[P]:
    """``paths`` (relative to ``root`` or absolute; str or Path) without those that resolve
    outside it, in order: for readers that list files themselves, so a check goes on with the
    rest. Each refusal is logged once as a run warning naming the link and its destination."""
    kept = []
    for path in paths:
        try:
            confined(root, path)
        except OutsideTarget:
            continue
        kept.append(path)
    return kept


def outside_links(root: Path | str, limit: int = MAX_SCANNED_ENTRIES) -> list[dict[str, str]]:
    """Every symbolic link under ``root`` whose destination is outside it, as
    ``{"path": relative link, "to": resolved destination}`` (links are not descended into)."""
    root = Path(root).resolve()
    found, seen = [], 0
    for folder, dirs, files in os.walk(root):
        dirs[:] = [d for d in dirs if d not in SKIPPED_DIRS]
        for name in (*dirs, *files):
            seen += 1
            entry = Path(folder) / name
            if entry.is_symlink():
                try:
                    dest = entry.resolve()
                except (RuntimeError, OSError):  # a link loop leads nowhere: nothing is read through it
                    continue
                if not _inside(dest, root):
                    found.append({"path": str(entry.relative_to(root)), "to": str(dest)})
        if seen >= limit:
            break
    return sorted(found, key=lambda item: item["path"])


def golive_stores(root: Path | str, files: Iterable[str]) -> list[str]:
    """The folders among ``files`` (paths relative to ``root``) that are golive evidence stores
    (a ``ledger.db`` beside a ``keys/`` folder): golive's own files, which no check of the team's
    workspace should judge (the store's signing key would be flagged as a leaked secret)."""
    base = Path(root)
    dirs = {str(Path(f).parent) for f in files if Path(f).name == "ledger.db"}
    return sorted(d for d in dirs if (base / d / "keys").is_dir())


def store_inside(root: Path | str, store: Path | str) -> bool:
    """Whether the evidence store folder ``store`` lies inside the audited workspace ``root``."""
    return _inside(Path(store).resolve(), Path(root).resolve())


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
            confined(root, CONFIG_NAME)
        except OutsideTarget as exc:
            raise TargetError(str(exc)) from None
        try:
            config = tomllib.loads(cfg_file.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise TargetError(f"{cfg_file}: not valid TOML ({exc}); fix or remove it") from exc
        except RecursionError:  # tomllib parses nested arrays and tables recursively
            raise TargetError(f"{cfg_file}: nested too deeply to be a golive.toml; fix or remove it") from None
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
