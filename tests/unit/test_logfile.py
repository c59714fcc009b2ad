"""output.log_file: lines logged before the config is read are kept and written once the
file is known; the error line is appended; a file that cannot be written costs a warning."""

import logging

import pytest

from neurodamus import logfile


@pytest.fixture
def root_logging():
    root = logging.getLogger()
    level, handlers = root.level, list(root.handlers)
    root.setLevel(logging.INFO)
    yield
    if logfile._handler is not None:
        root.removeHandler(logfile._handler)
        logfile._handler.close()
        logfile._handler = None
    root.handlers[:] = handlers
    root.setLevel(level)


def test_lines_before_and_after_open_and_the_error_line(tmp_path, root_logging):
    log = logging.getLogger("neurodamus")
    logfile.install()
    log.info("neurodamus on 1 MPI rank")
    logfile.open_log_file(tmp_path / "out", "logs/run.log")
    log.info("circuit 0.1 s")
    log.debug("not at info level")
    logfile.write_error("neurodamus: error: something")
    path = tmp_path / "out" / "logs" / "run.log"
    assert logfile.log_file_path() == path
    assert path.read_text().splitlines() == ["neurodamus on 1 MPI rank", "circuit 0.1 s",
                                             "neurodamus: error: something"]


def test_no_log_file_keeps_nothing(tmp_path, root_logging):
    logfile.install()
    logging.getLogger("neurodamus").info("a line")
    logfile.open_log_file(tmp_path, "")
    logging.getLogger("neurodamus").info("another")
    assert logfile._handler is not None
    assert logfile._handler.pending == [] and logfile.log_file_path() is None
    assert list(tmp_path.iterdir()) == []


def test_unwritable_log_file_is_a_warning(tmp_path, root_logging, caplog):
    (tmp_path / "file").write_text("")
    logfile.install()
    with caplog.at_level(logging.WARNING, logger="neurodamus"):
        logfile.open_log_file(tmp_path, "file/run.log")  # a file where a directory should be
        logging.getLogger("neurodamus").info("the run goes on")
    assert logfile.log_file_path() is None
    assert any("output.log_file: cannot write" in r.getMessage() for r in caplog.records)
