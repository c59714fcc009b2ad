"""Allen Institute cells (ctdb: / nml:), built in-process as BioNet builds them: axon stubs
compared with cells built by hand, the JSON and NeuroML2 paths giving the same cell, BioNet's
section numbering, the spike detector, and one-line errors for bad inputs."""

import json
from pathlib import Path
from typing import cast

import libsonata
import numpy as np
import pytest

from neurodamus.cells.allen_biophysics import Operation, neuroml_program
from neurodamus.cells.engines import engine_for
from neurodamus.cells.neuroml import read_cell_biophysics
from neurodamus.circuit.nodes import NodePopulation
from neurodamus.config.settings import Conditions, NodePopulationSettings, RunSettings
from neurodamus.errors import CircuitError
from neurodamus.testing import allen_style
from neurodamus.testing.allen_style import (
    MORPHOLOGY,
    NML_FILE,
    PERISOMATIC_JSON,
    build_allen_style_circuit,
)

PERISOMATIC, NML, ALLACTIVE, UNPROCESSED = 0, 1, 2, 3  # node ids of allen_style.NODES
DL = 10.0


@pytest.fixture(scope="module")
def h():
    from neuron import h

    h.load_file("stdrun.hoc")
    h.load_file("import3d.hoc")
    return h


@pytest.fixture(scope="module")
def circuit(tmp_path_factory):
    return build_allen_style_circuit(tmp_path_factory.mktemp("allen"))


def open_population(circuit, offset=0) -> NodePopulation:
    storage = libsonata.NodeStorage(str(circuit.nodes_file)).open_population(circuit.population)
    settings = NodePopulationSettings(
        name=circuit.population, type="biophysical", nodes_file=circuit.nodes_file,
        morphologies_dir=circuit.morphologies_dir, alternate_morphologies={},
        models_dir=circuit.models_dir, mechanisms_dir=None)
    return NodePopulation(settings, offset, storage.size, storage)


@pytest.fixture
def build(h):
    """build(circuit, node_ids, dl=..., spike_location=...) -> cells; gids cleared after."""
    pc = h.ParallelContext()

    def run(circuit, node_ids, dl=DL, spike_location="soma"):
        population = open_population(circuit)
        node_ids = np.asarray(node_ids)
        engine = engine_for(population,
                            population.attributes(node_ids, ["model_template"])["model_template"])
        local = engine.check(population, node_ids, h, pc)
        return engine.build(local, h, pc,
                            RunSettings(tstop=50.0, dt=0.025, random_seed=1, dl=dl,
                                        spike_threshold=-20.0),
                            Conditions(spike_location=spike_location))

    yield run
    pc.gid_clear()


@pytest.fixture
def hand_morphology(h, circuit):
    """The morphology read by Import3d into top-level sections, as a person would."""
    reader = h.Import3d_SWC_read()
    reader.quiet = 1
    reader.input(str(circuit.morphologies_dir / f"{MORPHOLOGY}.swc"))
    existing = set(h.allsec())
    h.Import3d_GUI(reader, 0).instantiate(None)
    created = [s for s in h.allsec() if s not in existing]
    arrays = {kind: [s for s in created if s.name().startswith(kind + "[")]
              for kind in ("soma", "axon", "dend", "apic")}
    for sections in arrays.values():
        sections.sort(key=lambda s: int(s.name().split("[")[1].rstrip("]")))
    extra: list = []
    yield arrays, extra
    deleted = set(arrays["axon"]) if extra else set()  # the test replaced the axon
    for section in created + extra:
        if section not in deleted:
            h.delete_section(sec=section)


def hand_stubs(h, arrays, diameters, soma_x):
    """BioNet's stub, by hand: delete the axon, two 30 um sections on soma(soma_x)."""
    for section in arrays["axon"]:
        h.delete_section(sec=section)
    stubs = [h.Section(name="stub0"), h.Section(name="stub1")]
    for stub, diameter in zip(stubs, diameters):
        stub.L, stub.diam = 30.0, diameter
    stubs[0].connect(arrays["soma"][0](soma_x), 0)
    stubs[1].connect(stubs[0](1), 0)
    h.define_shape()
    return stubs


def geometry(sections):
    """Per section: L, segment diameters, nseg, (parent's position in the list, x)."""
    index = {section: i for i, section in enumerate(sections)}
    rows = []
    for section in sections:
        parent = section.parentseg()
        rows.append((round(section.L, 9), [round(seg.diam, 9) for seg in section],
                     section.nseg,
                     None if parent is None else (index[parent.sec], round(parent.x, 9))))
    return rows


def segment_by_hand(sections, dl):
    for section in sections:
        section.nseg = 1 + 2 * int(section.L / (2 * dl))


# ------------------------------------------------------------------- axon stubs and nseg


def test_perisomatic_axon_stub_and_nseg_match_a_cell_built_by_hand(h, circuit, build,
                                                                   hand_morphology):
    (cell,) = build(circuit, [PERISOMATIC])
    arrays, extra = hand_morphology
    stubs = hand_stubs(h, arrays, (1.0, 1.0), 0.5)
    extra += stubs
    expected = arrays["soma"] + arrays["dend"] + arrays["apic"] + stubs
    segment_by_hand(expected, DL)
    assert geometry(cell.sections) == geometry(expected)
    assert [s.L for s in cell.sections[-2:]] == [30.0, 30.0]
    assert cell.sections[-2].parentseg().x == 0.5  # perisomatic: on the middle of the soma


def test_allactive_axon_stub_takes_the_first_and_last_axon_diameters(h, circuit, build,
                                                                    hand_morphology):
    (cell,) = build(circuit, [ALLACTIVE])
    arrays, extra = hand_morphology
    axon = arrays["axon"]
    diameters = (axon[0].diam, axon[-1].diam)  # read at nseg 1, before any segmentation
    assert diameters[0] != diameters[1]
    stubs = hand_stubs(h, arrays, diameters, 1.0)
    extra += stubs
    expected = arrays["soma"] + arrays["dend"] + arrays["apic"] + stubs
    segment_by_hand(expected, DL)
    assert geometry(cell.sections) == geometry(expected)
    assert cell.sections[-2].parentseg().x == 1.0


def test_without_run_dl_nseg_stays_as_import3d_makes_it(circuit, build):
    (cell,) = build(circuit, [UNPROCESSED], dl=None)
    assert {s.nseg for s in cell.sections} == {1}


# ------------------------------------------------------------------------ biophysics


VARIABLES = ("g_pas", "e_pas", "gnabar_hh", "gkbar_hh", "gl_hh", "el_hh", "ena", "ek")


def biophysics(h, cell):
    rows = []
    for section in cell.sections:
        row = {"Ra": section.Ra, "cm": section.cm, "nseg": section.nseg,
               "pas": section.has_membrane("pas"), "hh": section.has_membrane("hh")}
        for name in VARIABLES:
            ion = {"ena": "na_ion", "ek": "k_ion"}.get(name)
            if ion is not None and not h.ismembrane(ion, sec=section):
                continue
            if name in ("g_pas", "e_pas") and not row["pas"]:
                continue
            if name.endswith("_hh") and not row["hh"]:
                continue
            row[name] = getattr(section(0.5), name)
        rows.append(row)
    return rows


def soma_voltage(h, cells, amplitude=0.2):
    clamps, traces = [], []
    for cell in cells:
        clamp = h.IClamp(cell.soma(0.5))
        clamp.delay, clamp.dur, clamp.amp = 5.0, 30.0, amplitude
        trace = h.Vector().record(cell.soma(0.5)._ref_v)
        clamps.append(clamp)
        traces.append(trace)
    celsius = h.celsius
    h.celsius, h.dt = 6.3, 0.025
    try:
        h.finitialize(-65.0)
        h.continuerun(40.0)
    finally:
        h.celsius = celsius
    return [np.array(trace) for trace in traces]


def test_json_and_neuroml_give_the_same_cell(h, circuit, build):
    ctdb, nml = build(circuit, [PERISOMATIC, NML])
    a, b = biophysics(h, ctdb), biophysics(h, nml)
    assert len(a) == len(b)
    for section, (x, y) in zip(ctdb.sections, zip(a, b)):
        assert x.keys() == y.keys(), section.name()
        assert x == pytest.approx(y, rel=1e-12), section.name()
    soma = a[0]
    assert soma["hh"] and soma["ena"] == allen_style.ENA and soma["ek"] == allen_style.EK
    assert soma["Ra"] == allen_style.RA and soma["g_pas"] == pytest.approx(5e-5)
    assert a[1]["cm"] == 2.0 and not a[1]["hh"]  # dend: passive
    assert a[-1]["hh"] and a[-1]["gnabar_hh"] == 0.12  # the axon stub is active
    v_ctdb, v_nml = soma_voltage(h, [ctdb, nml])
    np.testing.assert_allclose(v_ctdb, v_nml, rtol=0, atol=1e-9)
    assert v_ctdb.max() > 0  # it fires


def test_allactive_json_sets_erev_only_where_the_ions_are(h, circuit, build):
    (cell,) = build(circuit, [ALLACTIVE])
    rows = biophysics(h, cell)
    dend = rows[1]
    assert dend["pas"] and dend["e_pas"] == allen_style.E_PAS and "ena" not in dend
    assert rows[0]["ena"] == allen_style.ENA and rows[0]["gkbar_hh"] == 0.036


def test_unprocessed_ctdb_cell_keeps_neuron_defaults(circuit, build):
    (cell,) = build(circuit, [UNPROCESSED])
    assert not any(s.has_membrane("pas") or s.has_membrane("hh") for s in cell.sections)


def test_allactive_fullaxon_keeps_the_axon_and_sets_the_allactive_parameters(build, tmp_path):
    """bio_all_active_sweep's aibs_allactive_fullaxon: aibs_allactive without the stub."""
    from neurodamus.testing.allen_style import ALLACTIVE_JSON

    full = build_allen_style_circuit(tmp_path / "full", nodes=(
        ("ctdb:Biophys1.hoc", MORPHOLOGY, "aibs_allactive_fullaxon", ALLACTIVE_JSON),))
    (cell,) = build(full, [0])
    axon = [s for s in cell.sections if "axon" in s.name()]
    assert axon and [s.L for s in axon] != [30.0, 30.0]  # the SWC's axon, not the stub
    assert cell.sections[0].has_membrane("hh") and cell.sections[1].has_membrane("pas")


def test_processing_steps_run_in_order(build, tmp_path):
    chained = build_allen_style_circuit(tmp_path, nodes=(
        ("ctdb:Biophys1.hoc", MORPHOLOGY, "aibs_perisomatic,set_extracellular", PERISOMATIC_JSON),))
    (cell,) = build(chained, [0])
    assert all(s.has_membrane("extracellular") and s.has_membrane("pas") for s in cell.sections)
    assert names(cell)[-2:] == ["axon[0]", "axon[1]"]


def test_neuroml_reader_converts_units_and_reads_the_allen_concentration_model(tmp_path):
    path = tmp_path / "cell.nml"
    path.write_text(
        '<neuroml xmlns="http://www.neuroml.org/schema/neuroml2" id="d">\n'
        '  <concentrationModel id="NdCaPool" type="NdCaPool" segmentGroup="soma" ion="ca"'
        ' decay="0.08 s" gamma="0.05"/>\n'
        '  <cell id="c"><biophysicalProperties id="b"><membraneProperties>\n'
        '    <channelDensity id="gbar_NdK" segmentGroup="axonal" ion="k" ionChannel="NdK"'
        ' erev="-0.09 V" condDensity="20 S_per_m2"/>\n'
        '    <channelDensityNernst id="gbar_NdCa" segmentGroup="soma" ion="ca"'
        ' ionChannel="NdCa" condDensity="1 mS_per_cm2"/>\n'
        '    <specificCapacitance segmentGroup="soma" value="0.02 F_per_m2"/>\n'
        '  </membraneProperties><intracellularProperties>\n'
        '    <resistivity value="1.5 ohm_m"/>\n'
        '  </intracellularProperties></biophysicalProperties></cell>\n</neuroml>\n')
    program = neuroml_program(read_cell_biophysics(path))
    assert program.operations["soma"] == (
        Operation("insert", "NdCaPool"), Operation("set", "gamma_NdCaPool", 0.05),
        Operation("set", "decay_NdCaPool", 80.0),
        Operation("insert", "NdCa"), Operation("set", "gbar_NdCa", cast(float, pytest.approx(1e-3))),
        Operation("set", "cm", 2.0), Operation("set", "Ra", 150.0))
    assert program.operations["axon"] == (
        Operation("insert", "NdK"), Operation("set", "gbar_NdK", cast(float, pytest.approx(2e-3))),
        Operation("set", "ek", -90.0), Operation("set", "Ra", 150.0))
    assert program.operations["dend"] == (Operation("set", "Ra", 150.0),)


def test_neuroml_properties_beside_an_empty_cell_and_gamma_in_ms(tmp_path):
    """bio_on_off's files: <cell id=/> with <biophysicalProperties> beside it, gamma
    written "0.05 ms" (BioNet reads every element of the file and ignores the unit)."""
    path = tmp_path / "cell.nml"
    path.write_text(
        '<neuroml xmlns="http://www.neuroml.org/schema/neuroml2" id="d">\n'
        '  <concentrationModel id="NdCaPool" type="NdCaPool" segmentGroup="soma" ion="ca"'
        ' decay="80 ms" gamma="0.05 ms"/>\n'
        '  <cell id="c"/>\n  <biophysicalProperties id="b"><membraneProperties>\n'
        '    <specificCapacitance segmentGroup="soma" value="2 uF_per_cm2"/>\n'
        '  </membraneProperties></biophysicalProperties>\n</neuroml>\n')
    program = neuroml_program(read_cell_biophysics(path))
    assert program.operations["soma"] == (
        Operation("insert", "NdCaPool"), Operation("set", "gamma_NdCaPool", 0.05),
        Operation("set", "decay_NdCaPool", 80.0), Operation("set", "cm", 2.0))


# ------------------------------------------------------------------- numbering, detector


def names(cell):
    return [s.name().rsplit(".", 1)[-1] for s in cell.sections]


def test_section_ids_are_positions_in_all_as_bionet_numbers_them(circuit, build):
    replaced, kept = build(circuit, [PERISOMATIC, UNPROCESSED])
    dend = [f"dend[{i}]" for i in range(allen_style.SECTIONS["dend"])]
    apic = [f"apic[{i}]" for i in range(allen_style.SECTIONS["apic"])]
    axon = [f"axon[{i}]" for i in range(allen_style.SECTIONS["axon"])]
    # The stubs are appended to `all`: they come after the dendrites.
    assert names(replaced) == ["soma[0]", *dend, *apic, "axon[0]", "axon[1]"]
    # Without processing the morphology's own order: soma, axon, dend, apic.
    assert names(kept) == ["soma[0]", *axon, *dend, *apic]
    for cell in (replaced, kept):
        assert all(cell.section(i) is cell.sections[i] for i in range(len(cell.sections)))
        assert cell.soma is cell.sections[0]
    assert replaced.section(1 + len(dend) + len(apic)).name().endswith("axon[0]")
    # The second basal tree is last in the SWC file, and Import3d names it dend[3].
    assert kept.section(1 + len(axon) + 3).L == pytest.approx(41.25, abs=1e-3)
    with pytest.raises(CircuitError, match=r"section id 10 out of range .*node 0"):
        replaced.section(10)


def test_spike_detector_watches_the_middle_of_the_soma(h, circuit, build):
    (cell,) = build(circuit, [NML])
    segment = cell.spike_detector.preseg()
    assert segment.sec == cell.soma and segment.x == 0.5
    assert cell.spike_detector.threshold == -20.0
    assert h.ParallelContext().gid_exists(cell.gid)
    times = h.Vector()
    cell.spike_detector.record(times)
    soma_voltage(h, [cell])
    assert len(times) >= 1 and all(5.0 < t < 40.0 for t in times)


def test_ais_detector_on_the_second_stub(circuit, build):
    (cell,) = build(circuit, [PERISOMATIC], spike_location="AIS")
    segment = cell.spike_detector.preseg()
    assert segment.sec.name().endswith("axon[1]") and segment.x == 0.5


def test_position_and_rotation_from_the_nodes(circuit, build):
    (cell,) = build(circuit, [ALLACTIVE])
    assert list(cell.position) == [200.0, 201.0, 202.0]
    angles = np.linspace(0, 0.3, 4)[ALLACTIVE] * np.array([1, 2, 3])
    c, s = np.cos(angles), np.sin(angles)
    rx = np.array([[1, 0, 0], [0, c[0], -s[0]], [0, s[0], c[0]]])
    ry = np.array([[c[1], 0, s[1]], [0, 1, 0], [-s[1], 0, c[1]]])
    rz = np.array([[c[2], -s[2], 0], [s[2], c[2], 0], [0, 0, 1]])
    np.testing.assert_allclose(cell.rotation, rx @ ry @ rz)  # BioNet: Rx . Ry . Rz


# ------------------------------------------------------------------------------ errors


def one_line_error(circuit, h, node_ids=(0,)) -> str:
    population = open_population(circuit)
    engine = engine_for(population, population.attributes(
        np.asarray(node_ids), ["model_template"])["model_template"])
    with pytest.raises(CircuitError) as caught:
        engine.check(population, np.asarray(node_ids), h, h.ParallelContext())
    message = str(caught.value)
    assert "\n" not in message and f"population '{circuit.population}'" in message
    return message


def test_an_nml_file_that_is_not_neuroml_is_one_error(h, tmp_path):
    circuit = build_allen_style_circuit(
        tmp_path, nodes=(("nml:broken.cell.nml", MORPHOLOGY, "aibs_perisomatic", ""),))
    (circuit.models_dir / "broken.cell.nml").write_text("<cells><cell id='x'/></cells>\n")
    message = one_line_error(circuit, h)
    assert str(circuit.models_dir / "broken.cell.nml") in message
    assert "node 0" in message and "not NeuroML2" in message


def test_an_nml_file_that_is_not_xml_is_one_error(h, tmp_path):
    circuit = build_allen_style_circuit(
        tmp_path, nodes=(("nml:broken.cell.nml", MORPHOLOGY, "", ""),))
    (circuit.models_dir / "broken.cell.nml").write_text("channelDensity gbar_NaV 0.1\n")
    message = one_line_error(circuit, h)
    assert "broken.cell.nml" in message and "not NeuroML2" in message


def test_a_missing_morphology_is_one_error(h, tmp_path):
    circuit = build_allen_style_circuit(
        tmp_path, nodes=(("ctdb:Biophys1.hoc", MORPHOLOGY, "aibs_perisomatic", PERISOMATIC_JSON),
                         (f"nml:{NML_FILE}", "no_such_cell", "aibs_perisomatic", "")))
    message = one_line_error(circuit, h, node_ids=(0, 1))
    assert "node 1" in message and "morphology 'no_such_cell' not found" in message
    assert str(circuit.morphologies_dir / "no_such_cell") in message


def test_a_mechanism_that_is_not_loaded_is_one_error(h, tmp_path):
    circuit = build_allen_style_circuit(
        tmp_path, nodes=(("ctdb:Biophys1.hoc", MORPHOLOGY, "aibs_perisomatic", "bad.json"),))
    params = allen_style.perisomatic_parameters()
    params["genome"].append({"section": "soma", "name": "gbar_NdNoSuch", "value": 1.0,
                             "mechanism": "NdNoSuch"})
    (circuit.models_dir / "bad.json").write_text(json.dumps(params))
    message = one_line_error(circuit, h)
    assert "mechanism 'NdNoSuch' is not loaded" in message and "bad.json" in message


def test_a_variable_that_does_not_exist_is_one_error(h, tmp_path):
    circuit = build_allen_style_circuit(
        tmp_path, nodes=(("ctdb:Biophys1.hoc", MORPHOLOGY, "aibs_perisomatic", "bad.json"),))
    params = allen_style.perisomatic_parameters()
    params["genome"].append({"section": "dend", "name": "gbar_hh", "value": 1.0,
                             "mechanism": "hh"})
    (circuit.models_dir / "bad.json").write_text(json.dumps(params))
    message = one_line_error(circuit, h)
    assert "'gbar_hh = 1.0' failed" in message and "bad.json" in message


def test_a_perisomatic_json_without_cm_for_a_section_kind_is_one_error(h, tmp_path):
    circuit = build_allen_style_circuit(
        tmp_path, nodes=(("ctdb:Biophys1.hoc", MORPHOLOGY, "aibs_perisomatic", "bad.json"),))
    params = allen_style.perisomatic_parameters()
    params["passive"][0]["cm"] = [c for c in params["passive"][0]["cm"] if c["section"] != "apic"]
    (circuit.models_dir / "bad.json").write_text(json.dumps(params))
    message = one_line_error(circuit, h)
    assert "no cm for section kind apic" in message and "bad.json" in message


def test_unknown_model_processing_and_template_are_one_error(h, tmp_path):
    circuit = build_allen_style_circuit(
        tmp_path, nodes=(("ctdb:Biophys1.hoc", MORPHOLOGY, "aibs_sideways", PERISOMATIC_JSON),))
    assert "unknown model_processing step 'aibs_sideways'" in one_line_error(circuit, h)
    circuit = build_allen_style_circuit(
        Path(tmp_path) / "b", nodes=(("ctdb:Biophys2.hoc", MORPHOLOGY, "", ""),))
    assert "ctdb:Biophys1" in one_line_error(circuit, h)


@pytest.mark.parametrize("processing, json_file, undirected, parent_x", [
    ("aibs_perisomatic_directed", PERISOMATIC_JSON, PERISOMATIC, 0.5),
    ("aibs_allactive_directed", "ndtest_allactive.json", ALLACTIVE, 1.0)])
def test_directed_stubs_follow_the_axon(h, build, circuit, tmp_path, processing, json_file,
                                        undirected, parent_x):
    """bmtk's *_directed stubs: the undirected stubs (length, diameter, parent) laid along
    the first principal axis of the soma's middle 3-D point and the last axon section's
    points, from the soma's last 3-D point away from the soma. By hand: that section is the
    SWC's last axon chain, 43 um from the end of the first branch along (-1, -1, 0.2)."""
    (plain,) = build(circuit, [undirected])
    diameters = [round(s.diam, 6) for s in plain.sections[-2:]]
    h.ParallelContext().gid_clear()
    directed = build_allen_style_circuit(tmp_path, nodes=(
        ("ctdb:Biophys1.hoc", MORPHOLOGY, processing, json_file),))
    (cell,) = build(directed, [0])
    stubs = cell.sections[-2:]
    assert [s.L for s in stubs] == [30.0, 30.0]
    assert [round(s.diam, 6) for s in stubs] == diameters
    assert stubs[0].parentseg().x == parent_x and stubs[1].parentseg().sec == stubs[0]
    ends = [np.array([[s.x3d(i), s.y3d(i), s.z3d(i)] for i in (0, s.n3d() - 1)])
            for s in stubs]
    np.testing.assert_allclose(ends[0][1], ends[1][0], atol=1e-4)  # one straight line
    first, second = (e[1] - e[0] for e in ends)
    np.testing.assert_allclose(first, second, atol=1e-4)
    soma = cell.sections[0]
    middle = np.array([soma.x3d(soma.n3d() // 2), soma.y3d(soma.n3d() // 2),
                       soma.z3d(soma.n3d() // 2)])
    # the last chain: from the end of the first branch (the axon's first section, then the
    # branch along (-0.5, -1, 0) for 83 um) 43 um along (-1, -1, 0.2)
    start = np.array([0.0, -7.0, 0.0]) + 50.0 * np.array([0.0, -1.0, 0.0]) \
        + 83.0 * np.array([-0.5, -1.0, 0.0]) / np.linalg.norm([-0.5, -1.0, 0.0])
    end = start + 43.0 * np.array([-1.0, -1.0, 0.2]) / np.linalg.norm([-1.0, -1.0, 0.2])
    chain = np.linspace(start, end, 20) + middle  # SWC coordinates relative to the soma
    cloud = np.vstack([middle, chain])
    values, vectors = np.linalg.eigh(np.cov((cloud - cloud.mean(axis=0)).T))
    axis = vectors[:, -1] * np.sign(vectors[:, -1] @ (end + middle - middle))
    assert float(first @ axis) / 30.0 > 0.999
