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


@pytest.mark.parametrize("value, mode", [("rr", "RoundRobin"), ("RR", "RoundRobin"),
                                         ("roundrobin", "RoundRobin"), ("WHOLECELL", "WholeCell"),
                                         ("wholecell", "WholeCell"), ("memory", "Memory"),
                                         ("Memory", "Memory")])
def test_lb_mode_is_read_as_neurodamus_reads_it(value, mode):
    assert build_parser().parse_args(["c.json", "--lb-mode", value]).lb_mode == mode


@pytest.mark.parametrize("value, reason", [("MultiSplit", "cells are not split across ranks"),
                                           ("loadbalance", "cells are not split across ranks"),
                                           ("fastest", "choose one of RoundRobin")])
def test_lb_mode_refused_with_the_reason(value, reason, capsys):
    with pytest.raises(SystemExit):
        build_parser().parse_args(["c.json", "--lb-mode", value])
    error = capsys.readouterr().err.strip().splitlines()
    assert len(error) == 1 and error[0].startswith("neurodamus: error: argument --lb-mode")
    assert reason in error[0]


def test_cell_permute_values():
    parse = build_parser().parse_args
    assert parse(["c.json"]).cell_permute == 0
    assert parse(["c.json", "--cell-permute", "node-adjacency"]).cell_permute == 1
    assert parse(["c.json", "--cell-permute=UNPERMUTED"]).cell_permute == 0
