"""Option values the parser refuses before anything starts: one usage line, exit code 1."""

import pytest

from neurodamus.cli import build_parser


@pytest.mark.parametrize("value, reason", [("0", "must be more than 0"),
                                           ("-5", "must be more than 0"),
                                           ("soon", "is not a number")])
def test_timeout_must_be_positive_seconds(value, reason, capsys):
    with pytest.raises(SystemExit) as stop:
        build_parser().parse_args(["simulation_config.json", "--timeout", value])
    assert stop.value.code == 1
    error = capsys.readouterr().err.strip().splitlines()
    assert len(error) == 1 and error[0].startswith("neurodamus: error: argument --timeout")
    assert reason in error[0]


def test_timeout_is_read_in_seconds():
    args = build_parser().parse_args(["simulation_config.json", "--timeout", "2.5"])
    assert args.timeout == 2.5
