"""The one thing pyproject.toml cannot say: the package list is the packages found under
neurodamus/ plus neurodamus.hoc and neurodamus.mod, which pyproject.toml's package-dir maps
to the repository's top-level hoc/ and mod/ (they stay there, where nrnivmodl users and the
design expect them, and ship inside the wheel as package data)."""

from setuptools import find_packages, setup

setup(packages=[*find_packages(include=["neurodamus*"]), "neurodamus.hoc", "neurodamus.mod"])
