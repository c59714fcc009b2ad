"""What reports may record, known before anything is compiled: NMODL sources scanned,
NEURON's built-ins asked from its registry."""

from typing import TypeVar

from neurodamus.reports.nmodl import scan_mod_text
from neurodamus.reports.variables import build_catalogue, split_variable_names

CHANNEL = """
COMMENT
RANGE not_a_variable
ENDCOMMENT
NEURON {
    SUFFIX kdr  : a potassium channel
    USEION k READ ek WRITE ik
    RANGE gbar, g
    GLOBAL q10
}
PARAMETER { gbar = 0.01 (S/cm2) q10 = 3 }
ASSIGNED { g (S/cm2) ik (mA/cm2) }
STATE { n FROM 0 TO 1 }
"""

ELECTRODE = """
NEURON {
    POINT_PROCESS Pipette
    RANGE amp, i
    ELECTRODE_CURRENT i
}
ASSIGNED { i (nA) }
PARAMETER { amp = 0 (nA) }
"""

T = TypeVar("T")


def present(value: T | None) -> T:
    """`value`, which must be there (scans and lookups return None for nothing found)."""
    assert value is not None
    return value


def test_density_mechanism_variables_carry_the_suffix():
    mechanism = present(scan_mod_text(CHANNEL))
    assert mechanism.name == "kdr" and not mechanism.point_process
    assert mechanism.variables == {"gbar_kdr", "g_kdr", "n_kdr"}  # q10 is GLOBAL; comments out
    assert mechanism.ion_variables == {"ik", "ek", "ki", "ko"}
    assert mechanism.units["g_kdr"] == "S/cm2" and mechanism.units["ik"] == "mA/cm2"


def test_point_process_current_and_electrode_flag():
    mechanism = present(scan_mod_text(ELECTRODE))
    assert mechanism.point_process and mechanism.variables == {"amp", "i"}
    assert mechanism.current == "i" and mechanism.electrode
    assert scan_mod_text("NEURON { ARTIFICIAL_CELL Clock }") is None  # nothing to record


def test_catalogue_from_neuron_and_mod_files(tmp_path):
    (tmp_path / "kdr.mod").write_text(CHANNEL)
    (tmp_path / "pipette.mod").write_text(ELECTRODE)
    catalogue = build_catalogue([tmp_path / "kdr.mod", tmp_path / "pipette.mod"])
    gate = present(catalogue.segment_variable("n_kdr"))
    assert gate.attribute == "n_kdr" and not gate.density
    potassium = present(catalogue.segment_variable("ik"))
    assert potassium.density and potassium.unit == "mA/cm2"
    assert present(catalogue.segment_variable("i_pas")).density  # NEURON built-in, from its registry
    membrane = present(catalogue.segment_variable("i_membrane"))
    assert (membrane.attribute, membrane.unit, membrane.density) == ("i_membrane_", "nA", False)
    assert present(catalogue.point_variable("Pipette", None)).sign == -1.0  # electrode: inward positive
    assert present(catalogue.point_variable("IClamp", None)).sign == -1.0
    assert present(catalogue.point_variable("ExpSyn", None)).sign == 1.0  # a membrane current
    assert present(catalogue.point_variable("IClamp", "amp")).sign == 1.0  # not its current
    assert catalogue.segment_variable("n_kd") is None
    assert catalogue.point_variable("Pipette", "volts") is None


def test_variable_names_split_on_commas_and_spaces():
    assert split_variable_names(" i_membrane, IClamp  NdTmExc.i,") == [
        "i_membrane", "IClamp", "NdTmExc.i"]
