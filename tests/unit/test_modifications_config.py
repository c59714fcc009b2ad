"""conditions.modifications in the settings: both forms, frozen values, every problem named."""

import json

import pytest

from neurodamus.config import load_settings
from neurodamus.errors import ConfigError
from neurodamus.modifications.statements import Assignment


def with_modifications(config, modifications, compartment_sets=None):
    raw = json.loads(config.read_text())
    raw["conditions"]["modifications"] = modifications
    if compartment_sets is not None:
        (config.parent / "sets.json").write_text(json.dumps(compartment_sets))
        raw["compartment_sets_file"] = "sets.json"
    config.write_text(json.dumps(raw))
    return config


def test_list_form_in_order(small_circuit):
    config = with_modifications(small_circuit(), [
        {"name": "block", "type": "ttx", "node_set": "exc"},
        {"name": "cm", "type": "configure_all_sections", "node_set": "All",
         "section_configure": "%s.cm *= 2; %s.gnabar_hh = 0"},
        {"name": "one", "type": "compartment_set", "compartment_set": "somata",
         "section_configure": "e_pas = -70"},
    ], {"somata": {"population": "exc", "compartment_set": [[0, 0, 0.5], [1, 0, 0.5]]}})
    block, cm, one = load_settings(config).conditions.modifications
    assert (block.name, block.type, block.key, block.node_set, block.statements) == (
        "block", "ttx", "conditions.modifications[0]", "exc", None)
    assert cm.statements.where == "%s"
    assert cm.statements.assignments == (Assignment("cm", "*=", 2.0),
                                         Assignment("gnabar_hh", "=", 0.0))
    assert one.node_set is None and one.compartment_set.population == "exc"
    assert one.compartment_set.locations == ((0, 0, 0.5), (1, 0, 0.5))


def test_older_object_form_is_read_as_a_list(small_circuit, caplog):
    config = with_modifications(small_circuit(), {
        "second": {"type": "section", "node_set": "exc", "section_configure": "dend[2].cm = 3"},
        "first": {"type": "ttx", "node_set": "inh"},
    })
    modifications = load_settings(config).conditions.modifications
    assert [(m.name, m.key) for m in modifications] == [
        ("second", "conditions.modifications.second"), ("first", "conditions.modifications.first")]
    assert modifications[0].statements.where == ("dend", 2)
    assert "older form" in caplog.text


def test_every_problem_reported_at_once(small_circuit):
    config = with_modifications(small_circuit(), [
        {"name": "a", "type": "configure_all_sections", "node_set": "exc",
         "section_configure": "%s.cm = 1 + 1"},
        {"name": "b", "type": "section_list", "node_set": "ghosts",
         "section_configure": "apical.no_such_variable = 0"},
        {"name": "c", "type": "configure_all_sections", "node_set": "exc",
         "section_configure": "%s.vshift = 0"},
    ])
    with pytest.raises(ConfigError) as error:
        load_settings(config)
    message = str(error.value)
    assert message.startswith("4 problems")  # two in 'b'
    for text in ("conditions.modifications[0].section_configure': modification 'a'",
                 "conditions.modifications[1].section_configure': modification 'b'",
                 "'no_such_variable' is neither",
                 "conditions.modifications[1].node_set': node set 'ghosts' is not defined",
                 "conditions.modifications[2].section_configure': modification 'c'"):
        assert text in message, message


@pytest.mark.parametrize("modifications, match", [
    ([{"name": "a", "type": "ttx"}], r"conditions.modifications\[0\].node_set': missing"),
    ([{"name": "a", "type": "ttx", "node_set": 3}],
     r"conditions.modifications\[0\].node_set': must be a string, got 3"),
    ([{"type": "ttx", "node_set": "exc"}], r"conditions.modifications\[0\].name': missing"),
    ([{"name": "a", "type": "TTX", "node_set": "exc"}], r"unknown modification type 'TTX' for type \(known: ttx"),
    ({"a": {"type": "configure_all_sections", "node_set": "exc"}},
     r"conditions.modifications.a.section_configure': missing"),
    ("ttx", r"conditions.modifications': must be a list"),
])
def test_what_libsonata_rejects_is_named(small_circuit, modifications, match):
    with pytest.raises(ConfigError, match=match):
        load_settings(with_modifications(small_circuit(), modifications))
