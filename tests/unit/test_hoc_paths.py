"""hoc takes paths as users have them: spaces and non-ASCII letters (NEURON encodes a str
argument as ASCII; HOC_LIBRARY_PATH is split at spaces unless it has a colon)."""

import os

import pytest

from neurodamus.cells.hoc_calls import hoc_text
from neurodamus.cells.templates import library_dirs, make_helpers_findable


@pytest.fixture
def library_path():
    before = os.environ.get("HOC_LIBRARY_PATH")
    yield
    if before is None:
        os.environ.pop("HOC_LIBRARY_PATH", None)
    else:
        os.environ["HOC_LIBRARY_PATH"] = before


def test_a_template_and_its_helper_load_from_a_folder_with_spaces_and_accents(tmp_path,
                                                                            library_path):
    from neuron import h
    folder = tmp_path / "models é ü" / "c with spaces"
    folder.mkdir(parents=True)
    (folder / "helper_paths_ok.hoc").write_text("func helper_paths_ok() { return 42 }\n")
    template = folder / "PathsTemplate.hoc"
    template.write_text('load_file("helper_paths_ok.hoc")\n'
                        "begintemplate PathsTemplate\npublic where\nstrdef where\n"
                        "proc init() { where = $s1 }\nendtemplate PathsTemplate\n")
    make_helpers_findable(template)
    assert folder in library_dirs()
    assert h.load_file(hoc_text(template)) == 1
    assert h.helper_paths_ok() == 42
    cell = h.PathsTemplate(hoc_text(folder))
    assert os.fsencode(str(folder)) == cell.where.encode("utf-8", "surrogateescape")


def test_hoc_text_keeps_ascii_as_str():
    assert hoc_text("plain/path.hoc") == "plain/path.hoc"
    assert hoc_text("é") == "é".encode()
