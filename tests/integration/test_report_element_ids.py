"""Compartment-report element ids are SONATA section ids, as the readers others use expect:
bluepysnap's frame-report API selects a section's compartments by (population, node, section
id), and sees the same values as libsonata."""

import libsonata
import morphio
import numpy as np
import pytest
from conftest import assert_ok, run_neurodamus

from neurodamus.testing.circuit_builder import (
    CircuitSpec,
    PopulationSpec,
    build_circuit,
    write_simulation_config,
)

pytestmark = pytest.mark.mpi
TSTOP, REPORT_DT = 10.0, 0.1
WINDOW = {"dt": REPORT_DT, "start_time": 0.0, "end_time": TSTOP}


@pytest.fixture(scope="module")
def simulation(tmp_path_factory):
    directory = tmp_path_factory.mktemp("element_ids")
    circuit = build_circuit(directory, CircuitSpec(
        populations=[PopulationSpec("exc", 3, "exc")], edges=[], seed=3))
    reports = {"all_v": {"type": "compartment", "variable_name": "v", "sections": "all",
                         "compartments": "all", **WINDOW},
               "soma_v": {"type": "compartment", "variable_name": "v", **WINDOW}}
    inputs = {"step": {"module": "linear", "input_type": "current_clamp", "node_set": "All",
                       "amp_start": 0.5, "delay": 1.0, "duration": TSTOP}}
    config = write_simulation_config(directory, circuit, tstop=TSTOP, node_set="All",
                                     reports=reports, inputs=inputs)
    assert_ok(run_neurodamus([config, "--no-progress"], ranks=1))
    return config


def test_bluepysnap_selects_sections_by_their_sonata_id(simulation):
    import bluepysnap

    snap = bluepysnap.Simulation(str(simulation))
    frame = snap.reports["all_v"].filter(group=[0, 1, 2]).report
    nodes = snap.circuit.nodes["exc"]
    reader = libsonata.ElementReportReader(str(simulation.parent / "output" / "all_v.h5"))["exc"]
    for node in (0, 1, 2):
        morphology = morphio.Morphology(str(nodes.morph.get_filepath(node, extension="swc")))
        columns = frame[("exc", node)]
        section_ids = columns.columns.to_numpy()
        # soma 0, then one id per neurite section; a section's compartments share its id
        assert sorted(set(section_ids)) == list(range(1 + len(morphology.sections)))
        assert np.all(np.diff(section_ids) >= 0)
        assert len(section_ids) > len(set(section_ids))  # some sections have several compartments
        assert list(section_ids).count(0) == 1  # the soma: one compartment
        libsonata_frames = reader.get(node_ids=[node])
        assert [int(e) for _, e in libsonata_frames.ids] == list(section_ids)
        np.testing.assert_array_equal(columns.to_numpy(), np.asarray(libsonata_frames.data))
    # the soma report (bluepysnap's soma report: one column per node) is section 0 of the
    # whole-cell report
    soma = snap.reports["soma_v"].filter(group=[0, 1, 2]).report
    assert list(soma.columns) == [("exc", 0), ("exc", 1), ("exc", 2)]
    for node in (0, 1, 2):
        np.testing.assert_array_equal(soma[("exc", node)].to_numpy(),
                                      frame[("exc", node, 0)].to_numpy().ravel())
    assert np.ptp(soma.to_numpy()) > 10  # the cells spike: values that could differ


def test_a_sections_compartments_are_selected_together(simulation):
    """One section id picks all that section's compartments (distinct traces: x from 0 to 1)."""
    import bluepysnap

    frame = bluepysnap.Simulation(str(simulation)).reports["all_v"].filter(group=[0]).report
    ids = frame[("exc", 0)].columns.to_numpy()
    section = int(ids[np.flatnonzero(np.bincount(ids) > 2)[0]])  # one with >2 compartments
    along = frame[("exc", 0, section)]
    assert along.shape[1] == int(np.sum(ids == section)) > 2
    assert not np.array_equal(along.iloc[:, 0].to_numpy(), along.iloc[:, -1].to_numpy())
