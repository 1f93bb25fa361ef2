"""Maps the design's top-level folders onto the ``golive`` import namespace.

engine/ -> golive, plugins/ -> golive.plugins, requirements/ and templates/ ship as package data.
Metadata lives in pyproject.toml; only the package layout is computed here, because setuptools
cannot discover sub-packages of a remapped folder declaratively.
"""
from setuptools import find_packages, setup

FOLDERS = {
    "golive": "engine",
    "golive.plugins": "plugins",
    "golive.requirements": "requirements",
    "golive.templates": "templates",
}


def packages() -> list[str]:
    found = []
    for name, folder in FOLDERS.items():
        found.append(name)
        found += [f"{name}.{sub}" for sub in find_packages(folder)]
    return found


setup(
    packages=packages(),
    package_dir=FOLDERS,
    package_data={
        "golive.requirements": ["*.yaml", "**/*.yaml", "*.json", "*.md"],
        "golive.templates": ["*", "**/*"],
        "golive": ["schema/*.json", "py.typed", "scaffold/templates/*.tmpl"],
        "golive.plugins": ["**/*.json", "**/*.yaml"],
    },
    include_package_data=True,
)
