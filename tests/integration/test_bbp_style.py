"""A circuit with the features of published BBP/OBI circuits (templates of our own writing
with the published contract, synapse mechanisms with the ProbAMPANMDA_EMS interface, see
neurodamus/testing/bbp_style): section ids counted over the removed axon, the reference's
parameter mapping and Random123 keys, the same spikes on 1 and 2 ranks, and clear errors."""

import hashlib
import json
import sys
from pathlib import Path

import h5py
import numpy as np
import pytest
from conftest import assert_ok, assert_one_error, run_mpi_script, run_neurodamus
from random123_reference import neuron_uniforms

from neurodamus.testing.bbp_style import (
    AXON_SECTIONS,
    FIRST_APICAL,
    FIRST_BASAL,
    build_bbp_style_circuit,
    mechanism_dir,
)
from neurodamus.testing.circuit_builder import write_simulation_config

pytestmark = pytest.mark.mpi  # each test runs neurodamus under mpiexec, or reads such a run

DUMP = Path(__file__).parent / "scripts" / "dump_bbp_synapses.py"
TSTOP = 60.0
DT = 0.025  # write_simulation_config's default
SYNAPSE_SEED = 11
RANDOM_SEED = 5


def _config(directory, **kwargs):
    circuit = build_bbp_style_circuit(directory, **kwargs)
    run = {"synapse_seed": SYNAPSE_SEED}
    config = write_simulation_config(
        directory, circuit, tstop=TSTOP, node_set="All", random_seed=RANDOM_SEED,
        inputs={"step": {"module": "linear", "input_type": "current_clamp", "node_set": "All",
                         "amp_start": 0.5, "delay": 5.0, "duration": 40.0}})
    raw = json.loads(config.read_text())
    raw["run"].update(run)
    config.write_text(json.dumps(raw))
    return config


@pytest.fixture(scope="module")
def bbp_config(tmp_path_factory):
    return _config(tmp_path_factory.mktemp("bbp") / "circuit")


def _spikes(directory):
    import libsonata
    reader = libsonata.SpikeReader(str(directory / "out.h5"))
    return {p: reader[p].get() for p in reader.get_population_names()}


def test_same_spikes_on_1_and_2_ranks_and_the_physics_is_named(bbp_config, tmp_path):
    outputs = {}
    for ranks in (1, 2):
        out = tmp_path / f"ranks{ranks}"
        assert_ok(run_neurodamus([bbp_config, "--mechanisms", mechanism_dir(), "--output-path",
                                  out, "--no-progress"], ranks=ranks))
        outputs[ranks] = _spikes(out)
        summary = json.loads((out / "run_summary.json").read_text())
        assert summary["synapse_models"] == {
            "cortex__cortex__chemical": "ProbAMPANMDA_EMS/ProbGABAAB_EMS"}
        assert "hoc template" in summary["cell_engines"]["cortex"]
    one, two = outputs[1]["cortex"], outputs[2]["cortex"]
    assert len(one) > 4  # the step makes every cell fire
    assert [n for n, _ in one] == [n for n, _ in two]
    np.testing.assert_allclose([t for _, t in one], [t for _, t in two], atol=1e-9)


def test_synapse_report_ids_are_synapse_ids_in_compartment_order(bbp_config, tmp_path):
    """The BBP synapses' report columns as the reference writes them: element id =
    synapseID (the index among the node's afferent edges), columns compartment by
    compartment (the soma and dendrites by section id; the axon stubs, made last, after)."""
    import libsonata

    raw = json.loads(bbp_config.read_text())
    raw["reports"] = {"g": {"type": "synapse", "variable_name": "ProbAMPANMDA_EMS.g",
                            "start_time": 0.0, "end_time": 5.0, "dt": 1.0}}
    config = bbp_config.parent / "synapse_report.json"
    config.write_text(json.dumps(raw))
    out = tmp_path / "out"
    assert_ok(run_neurodamus([config, "--mechanisms", mechanism_dir(), "--output-path", out,
                              "--no-progress"], ranks=1))
    frames = libsonata.ElementReportReader(str(out / "g.h5"))["cortex"].get()
    name = "cortex__cortex__chemical"
    edges = libsonata.EdgeStorage(str(bbp_config.parent / "edges.h5")).open_population(name)
    checked = 0
    for node in sorted({int(n) for n, _ in frames.ids}):
        selection = edges.afferent_edges([node])
        sections = np.asarray(edges.get_attribute("afferent_section_id", selection))
        excitatory = np.asarray(edges.get_attribute("syn_type_id", selection)) >= 100
        ids = [int(e) for n, e in frames.ids if n == node]
        assert sorted(ids) == np.flatnonzero(excitatory).tolist()  # index among afferents
        placed = [int(sections[i]) for i in ids]
        somatic_dendritic = [s for s in placed if s == 0 or s > 2]  # axon ids 1..2 aside
        assert somatic_dendritic == sorted(somatic_dendritic)
        checked += len(ids)
    assert checked > 5


def test_prebuilt_library_from_nrnmech_lib_path(bbp_config, tmp_path):
    """NRNMECH_LIB_PATH: a library built beforehand (here ours plus the test synapses) is
    loaded as is; nothing it defines is compiled again, and the spikes are the same."""
    import os
    import subprocess

    built = subprocess.run([sys.executable, "-m", "neurodamus", "build-mechanisms",
                            str(mechanism_dir()), "--mechanisms-cache", str(tmp_path / "cache")],
                           check=False, capture_output=True, text=True, timeout=600)
    assert built.returncode == 0, built.stderr
    library = built.stdout.strip().split("mechanisms: ", 1)[1]
    env = dict(os.environ, NRNMECH_LIB_PATH=library)
    from conftest import MPIEXEC
    result = subprocess.run([MPIEXEC, "-n", "2", sys.executable, "-m", "neurodamus",
                             str(bbp_config), "--output-path", str(tmp_path / "out"),
                             "--no-progress", "--mechanisms-cache", str(tmp_path / "empty")],
                            check=False, capture_output=True, text=True, timeout=300,
                            env=env)
    assert_ok(result)
    assert "Compiling" not in result.stdout
    assert not (tmp_path / "empty").exists()  # nothing left to build
    reference = tmp_path / "reference"
    assert_ok(run_neurodamus([bbp_config, "--mechanisms", mechanism_dir(), "--output-path",
                              reference, "--no-progress"], ranks=2))
    assert _spikes(tmp_path / "out") == _spikes(reference)


def test_save_and_restore_with_bbp_synapses_and_minis(tmp_path):
    """The BBP models' streams and the minis sources are part of the saved state: saved on
    2 ranks, restored on 1, the spikes after the save are the uninterrupted run's."""
    config = _config(tmp_path / "c")
    raw = json.loads(config.read_text())
    raw["connection_overrides"] = [{"name": "minis", "source": "All", "target": "All",
                                    "spont_minis": 20.0}]
    config.write_text(json.dumps(raw))
    common = [config, "--mechanisms", mechanism_dir(), "--no-progress"]
    assert_ok(run_neurodamus([*common, "--output-path", tmp_path / "full"], ranks=2))
    assert_ok(run_neurodamus([*common, "--output-path", tmp_path / "first", "--save",
                              tmp_path / "saved", "--save-time", TSTOP / 2], ranks=2))
    assert_ok(run_neurodamus([*common, "--output-path", tmp_path / "rest", "--restore",
                              tmp_path / "saved"], ranks=1))
    full, rest = _spikes(tmp_path / "full")["cortex"], _spikes(tmp_path / "rest")["cortex"]
    assert sum(t > TSTOP / 2 for _, t in full) > 2  # activity after the save

    def key(spike):
        return spike[1], spike[0]

    assert [n for n, _ in sorted(full, key=key)] == [n for n, _ in sorted(rest, key=key)]
    np.testing.assert_allclose([t for _, t in sorted(full, key=key)],
                               [t for _, t in sorted(rest, key=key)], rtol=0, atol=1e-9)


def test_template_found_through_hoc_library_path(tmp_path):
    """A template kept where HOC_LIBRARY_PATH points, not in biophysical_neuron_models_dir."""
    import os
    import subprocess

    from conftest import MPIEXEC

    config = _config(tmp_path / "c")
    library = tmp_path / "hoc_library"
    library.mkdir()
    (config.parent / "emodels" / "NdTestEModel.hoc").rename(library / "NdTestEModel.hoc")
    command = [MPIEXEC, "-n", "2", sys.executable, "-m", "neurodamus", str(config),
               "--mechanisms", str(mechanism_dir()), "--no-progress"]
    missing = subprocess.run(command, check=False, capture_output=True, text=True,
                             timeout=300)
    assert_one_error(missing, "template 'NdTestEModel' not found")
    env = dict(os.environ, HOC_LIBRARY_PATH=str(library))
    assert_ok(subprocess.run(command, check=False, capture_output=True, text=True, timeout=300,
                             env=env))


def _reference_population_id(name):
    """Written from the definition, apart from neurodamus.random.reference: MD5 byte 0 plus
    the low nibble of byte 1 shifted by 8."""
    digest = hashlib.md5(name.encode()).digest()
    return digest[0] | (digest[1] & 0xF) << 8


@pytest.fixture(scope="module")
def synapses(bbp_config, tmp_path_factory):
    out = tmp_path_factory.mktemp("dump")
    assert_ok(run_mpi_script(DUMP, [bbp_config, out, mechanism_dir()], ranks=2))
    rows = [row for rank in (0, 1) for row in
            json.loads((out / f"synapses_rank{rank}.json").read_text())]
    with h5py.File(bbp_config.parent / "edges.h5") as f:
        group = f["edges/cortex__cortex__chemical"]
        edges = {name: group["0"][name][()] for name in group["0"]}
        edges["target_node_id"] = group["target_node_id"][()]
    return rows, edges


def test_section_ids_count_the_removed_axon(synapses):
    rows, edges = synapses
    assert len(rows) == len(edges["afferent_section_id"])
    for row in rows:
        section_id = int(edges["afferent_section_id"][row["edge_id"]])
        name = row["section"].rsplit(".", 1)[-1]
        if section_id < FIRST_APICAL:
            assert name == f"dend[{section_id - FIRST_BASAL}]", (section_id, name)
        else:
            assert name == f"apic[{section_id - FIRST_APICAL}]", (section_id, name)
        # a point process sits at the centre of the segment holding its position
        position = float(edges["afferent_section_pos"][row["edge_id"]])
        assert int(row["x"] * row["nseg"]) == int(position * row["nseg"])


def test_parameters_mapped_as_the_reference_does(synapses):
    rows, edges = synapses
    for row in rows:
        e = {name: values[row["edge_id"]] for name, values in edges.items()}
        inhibitory = e["syn_type_id"] < 100
        assert row["mechanism"] == ("ProbGABAAB_EMS" if inhibitory else "ProbAMPANMDA_EMS")
        assert row["Use"] == pytest.approx(abs(float(e["u_syn"])))
        assert row["Dep"] == pytest.approx(abs(float(e["depression_time"])))
        assert row["Fac"] == pytest.approx(abs(float(e["facilitation_time"])))
        assert row["Nrrp"] == e["n_rrp_vesicles"]
        assert row["tau_d"] == pytest.approx(float(e["decay_time"]))
        assert row["ratio"] == pytest.approx(float(e["conductance_scale_factor"]))
        assert row["weight"] == pytest.approx(float(e["conductance"]))  # not x scale factor
        assert row["delay"] == int(float(e["delay"]) / DT + 1e-5) * DT  # whole steps


def test_release_streams_keyed_as_the_reference_does(synapses):
    """setRNG(tgid + 250, index + 100, spop * 65536 + tpop + synapse_seed + 300): tgid is
    the 1-based gid (one population: offset 0), index counts the target's afferent edges."""
    rows, edges = synapses
    population_id = _reference_population_id("cortex")
    targets = edges["target_node_id"]
    for row in rows:
        edge_id = row["edge_id"]
        index = int(np.sum(targets[:edge_id] == targets[edge_id]))
        assert row["rng_id1"] == row["node_id"] + 1 + 250
        assert row["rng_id2"] == index + 100
        assert row["synapseID"] == index
        assert row["rng_id3"] == population_id * 65536 + population_id + SYNAPSE_SEED + 300
    assert any(row["draws"] > 0 for row in rows)  # the streams were used


def test_first_release_draw_is_the_random123_number_of_its_key(synapses):
    """The stream behind those ids, under the global index run.random_seed, computed from
    the Philox4x32-10 definition (tests/random123_reference.py)."""
    rows, _ = synapses
    used = [row for row in rows if row["draws"] > 0]
    assert used
    for row in used:
        ids = (int(row["rng_id1"]), int(row["rng_id2"]), int(row["rng_id3"]))
        expected = next(neuron_uniforms(*ids, RANDOM_SEED))
        assert row["first_draw"] == pytest.approx(expected, abs=1e-12)


MINIS_RATE = 500.0  # Hz
MINIS_SEED = 4


def test_minis_arrive_when_the_reference_protocol_says(tmp_path):
    """Spontaneous releases from the reference simulator's protocol: Poisson intervals
    1000 / rate x -log(u) from stream (index + 200, tgid + 250, spop * 65536 + tpop +
    minis_seed + 300), its first draw discarded, delivered 0.1 ms later."""
    import math

    config = _config(tmp_path / "c")
    raw = json.loads(config.read_text())
    raw["run"]["minis_seed"] = MINIS_SEED
    raw["run"]["spike_threshold"] = 1000.0  # no spikes: the synapses see minis only
    raw["connection_overrides"] = [{"name": "minis", "source": "All", "target": "All",
                                    "spont_minis": MINIS_RATE}]
    config.write_text(json.dumps(raw))
    out = tmp_path / "dump"
    out.mkdir()
    assert_ok(run_mpi_script(DUMP, [config, out, mechanism_dir()], ranks=2))
    rows = [row for rank in (0, 1) for row in
            json.loads((out / f"synapses_rank{rank}.json").read_text())]
    population_id = _reference_population_id("cortex")
    third = population_id * 65536 + population_id + MINIS_SEED + 300
    for row in rows:
        ids = (int(row["synapseID"]) + 200, row["node_id"] + 1 + 250, third)
        uniforms = neuron_uniforms(*ids, RANDOM_SEED)
        next(uniforms)  # discarded, as the reference does
        first = 1000.0 / MINIS_RATE * -math.log(next(uniforms)) + 0.1
        assert row["first_event"] == pytest.approx(first, abs=1e-9), ids


# -- bad input, one clear line on 2 ranks -----------------------------------------------

def _expect_error(config, *expected, mechanisms=True):
    args = [config, "--no-progress"] + (["--mechanisms", mechanism_dir()] if mechanisms else [])
    return assert_one_error(run_neurodamus(args, ranks=2, timeout=180), *expected)


def _edit_template(config, old, new):
    template = config.parent / "emodels" / "NdTestEModel.hoc"
    text = template.read_text()
    assert old in text
    template.write_text(text.replace(old, new))
    return template


def test_template_needing_a_mechanism_not_loaded(tmp_path):
    config = _config(tmp_path / "c")
    template = _edit_template(config, "forsec somatic { insert hh }",
                              "forsec somatic { insert NdNoSuchChannel }")
    _expect_error(config, template, "NdNoSuchChannel", "--mechanisms", "NRNMECH_LIB_PATH")


def test_template_with_a_hoc_syntax_error(tmp_path):
    config = _config(tmp_path / "c")
    template = _edit_template(config, "    ais_scaler = $4\n", "    ais_scaler = = $4\n")
    _expect_error(config, template, "syntax error")


def test_template_needing_a_node_attribute_the_nodes_file_lacks(tmp_path):
    config = _config(tmp_path / "c")
    with h5py.File(config.parent / "nodes.h5", "r+") as f:
        del f["nodes/cortex/0/dynamics_params/AIS_scaler"]
    _expect_error(config, "AIS_scaler", "NdTestEModel", "nodes.h5", "cortex")


def test_morphology_file_that_is_garbage(tmp_path):
    config = _config(tmp_path / "c")
    morphology = config.parent / "morphologies" / "bbp_morph.swc"
    morphology.write_text("this is not\nan swc file at all\n")
    _expect_error(config, "node 0", "NdTestEModel", "bbp_morph.swc", "cortex")


def test_section_id_inside_the_removed_axon(tmp_path):
    ids = np.full(4 * 6, FIRST_BASAL)
    ids[7] = AXON_SECTIONS  # the morphology's last axon section; the template keeps two
    config = _config(tmp_path / "c", section_ids=ids)
    _expect_error(config, f"section id {AXON_SECTIONS}", "removed", "cortex")


def _with_modoverride(directory, model):
    config = _config(directory)
    raw = json.loads(config.read_text())
    raw["connection_overrides"] = [{"name": "x", "source": "All", "target": "All",
                                    "modoverride": model}]
    config.write_text(json.dumps(raw))
    return config


def test_modoverride_naming_no_registered_model(tmp_path):
    config = _with_modoverride(tmp_path / "c", "NoSuchSynapse")
    _expect_error(config, "connection_overrides[0].modoverride", "NoSuchSynapse", "GluSynapse")


def test_modoverride_whose_mechanism_is_not_loaded(tmp_path):
    config = _with_modoverride(tmp_path / "c", "GluSynapse")
    _expect_error(config, "connection_overrides[0].modoverride", "GluSynapse", "not loaded")


def test_population_kind_without_an_engine(tmp_path):
    config = _config(tmp_path / "c")
    circuit = config.parent / "circuit_config.json"
    raw = json.loads(circuit.read_text())
    raw["networks"]["nodes"][0]["populations"]["cortex"].update(
        type="vasculature", vasculature_file="$BASE_DIR/nodes.h5",
        vasculature_mesh="$BASE_DIR/nodes.h5")
    circuit.write_text(json.dumps(raw))
    _expect_error(config, "vasculature", "not supported", "circuit_config.json")


def test_mechanisms_option_is_not_an_abbreviation_of_mechanisms_cache(tmp_path):
    from neurodamus.cli import build_parser
    with pytest.raises(SystemExit):
        build_parser().parse_args(["config.json", "--mechanisms-c", str(tmp_path)])
