"""``golive plugin new NAME``: write a working checker plugin package to start from.

The package (``DIR/golive-NAME``) holds a pyproject with the ``golive`` entry point, a module
with one check (``file_freshness``: params schema, metrics, evidence), its unit tests and a
README. ``pip install -e`` it and the check is usable from YAML as ``{plugin: NAME, name:
file_freshness}``. Templates live in ``templates/`` next to this module and are filled with
:class:`string.Template` (``${name}`` placeholders), so they stay readable as the files they
become.
"""
from __future__ import annotations

import importlib.metadata
import re
from dataclasses import dataclass
from pathlib import Path
from string import Template

import click

TEMPLATES = Path(__file__).parent / "templates"
NAME_PATTERN = re.compile(r"^[a-z][a-z0-9]*(?:[-_][a-z0-9]+)*$")
# template -> path inside the package folder ({module} is filled in)
LAYOUT = {
    "pyproject.toml.tmpl": "pyproject.toml",
    "README.md.tmpl": "README.md",
    "init.py.tmpl": "src/{module}/__init__.py",
    "checks.py.tmpl": "src/{module}/checks.py",
    "test_checks.py.tmpl": "tests/test_{module}.py",
}


class ScaffoldError(click.ClickException):
    """Bad name or destination: printed without a traceback, exit code 2 (usage error)."""

    exit_code = 2


@dataclass(frozen=True)
class PluginNames:
    """The spellings of one plugin name: YAML/entry point, import package, distribution."""

    plugin: str  # check.plugin in YAML and the entry-point name, e.g. acme_data
    module: str  # import package, e.g. golive_acme_data
    dist: str  # distribution and folder name, e.g. golive-acme-data

    @classmethod
    def from_name(cls, name: str) -> "PluginNames":
        if not NAME_PATTERN.match(name):
            raise ScaffoldError(
                f"plugin name {name!r} is not usable: use lowercase letters and digits, words "
                f"joined by '-' or '_', starting with a letter (e.g. acme-data)")
        plugin = name.replace("-", "_")
        return cls(plugin=plugin, module=f"golive_{plugin}", dist=f"golive-{plugin.replace('_', '-')}")


def installed_plugins() -> dict[str, str]:
    """``{plugin name: entry-point value}`` of installed golive plugins (built-ins included)."""
    return {ep.name: ep.value for ep in importlib.metadata.entry_points(group="golive")}


def render_package(names: PluginNames, summary: str) -> dict[str, str]:
    """``{relative path: file text}`` of the package, without touching the disk."""
    from golive import __version__

    values = {"plugin": names.plugin, "module": names.module, "dist": names.dist,
              "summary": summary, "golive_version": __version__}
    files = {}
    for template, target in LAYOUT.items():
        text = Template((TEMPLATES / template).read_text(encoding="utf-8")).substitute(values)
        files[target.format(module=names.module)] = text
    return files


def write_package(name: str, directory: Path, summary: str = "", force: bool = False) -> tuple[Path, list[Path]]:
    """Write the package for ``name`` under ``directory``; returns (package folder, files)."""
    names = PluginNames.from_name(name)
    taken = installed_plugins()
    # regenerating a package you installed from this scaffold is fine; taking another's name is not
    if names.plugin in taken and taken[names.plugin] != f"{names.module}.checks":
        raise ScaffoldError(f"a golive plugin named {names.plugin!r} is already installed "
                            f"(see `golive plugins`); choose another name")
    summary = " ".join(summary.split()) or f"checks for {names.plugin}"
    folder = Path(directory) / names.dist
    files = render_package(names, summary)
    if folder.exists() and not force:
        existing = [p for p in files if (folder / p).exists()]
        if existing or not folder.is_dir():
            raise ScaffoldError(f"{folder} already exists; choose another --dir or pass --force to overwrite "
                                f"{', '.join(existing) or 'it'}")
    written = []
    for rel, text in files.items():
        path = folder / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return folder, written


@click.group("plugin")
def plugin() -> None:
    """Write your own checker plugins (see docs/plugin-authoring.md)."""


@plugin.command("new")
@click.argument("name")
@click.option("--dir", "directory", type=click.Path(file_okay=False, path_type=Path), default=Path("."),
              show_default=True, help="Folder to create the package in; the package is DIR/golive-NAME.")
@click.option("--summary", default="", help="One line saying what the plugin checks (README and metadata).")
@click.option("--force", is_flag=True, help="Overwrite the files of an existing package folder.")
def new(name: str, directory: Path, summary: str, force: bool) -> None:
    """Write a working plugin package NAME: pyproject with the golive entry point, one check
    with its params schema and metrics, its tests and a README.

    NAME is the plugin name used in YAML (check: {plugin: NAME, ...}); '-' becomes '_'.
    """
    folder, written = write_package(name, directory, summary, force)
    names = PluginNames.from_name(name)
    click.echo(f"wrote plugin '{names.plugin}' in {folder}:")
    for path in written:
        click.echo(f"  {path.relative_to(folder).as_posix()}")
    click.echo("next:\n"
               f"  pip install -e {folder}        # where golive is installed\n"
               f"  golive plugins                  # lists {names.plugin}\n"
               f"  pytest {folder / 'tests'}\n"
               f"  use it in a plan: check: {{plugin: {names.plugin}, name: file_freshness, params: {{pattern: ...}}}}")
