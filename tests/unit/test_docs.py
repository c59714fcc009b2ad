"""The documentation keeps up with the tree: docs/architecture.md names every package of
neurodamus/ (and names none that is gone) and lists the phases as simulation.py runs them,
and every relative link of the README and the docs pages leads to a file that exists."""

import re

from conftest import REPOSITORY

DOCS = REPOSITORY / "docs"
PAGES = [REPOSITORY / "README.md", *sorted(DOCS.glob("*.md"))]


def _packages() -> set[str]:
    package = REPOSITORY / "neurodamus"
    return {f"neurodamus/{init.parent.relative_to(package).as_posix()}/"
            for init in package.rglob("__init__.py") if init.parent != package}


def test_architecture_names_every_package():
    text = (DOCS / "architecture.md").read_text()
    missing = sorted(p for p in _packages() if f"`{p}`" not in text)
    assert not missing, f"packages not named in docs/architecture.md: {missing}"


def test_every_path_architecture_names_exists():
    text = (DOCS / "architecture.md").read_text()
    named = set(re.findall(r"`(neurodamus/[\w/]+(?:\.py)?)`", text))
    assert named, "docs/architecture.md names no paths"
    gone = sorted(path for path in named if not (REPOSITORY / path).exists())
    assert not gone, f"docs/architecture.md names paths that do not exist: {gone}"


def test_relative_links_lead_to_files():
    broken = []
    for page in PAGES:
        for target in re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", page.read_text()):
            if not re.search("[A-Za-z]", target):  # `soma[0](1)`: a NEURON location, not a link
                continue
            if "://" not in target and not (page.parent / target).exists():
                broken.append(f"{page.relative_to(REPOSITORY)}: {target}")
    assert not broken, broken


def test_the_readme_is_a_door():
    readme = (REPOSITORY / "README.md").read_text()
    assert len(readme.splitlines()) <= 250
    for page in ("architecture", "supported", "operations", "dynapse"):
        assert f"(docs/{page}.md)" in readme


def test_the_phase_table_follows_simulation_py():
    """The phases of docs/architecture.md's table are the `_phase` calls, in their order."""
    source = (REPOSITORY / "neurodamus" / "simulation.py").read_text()
    called = re.findall(r'self\._phase\(\s*"([\w-]+)"', source)
    text = (DOCS / "architecture.md").read_text()
    table = re.findall(r"^\| \w+ \| `([\w-]+)` \|", text, re.M)
    assert called and table == called, (table, called)
