"""conditions.modifications on built cells, under mpiexec: what each type changes (read back
from NEURON), TTX silencing a cell whose sodium channel reads the ttx ion, and bad input
giving one clear message."""

import json
from pathlib import Path

import h5py
import libsonata
import numpy as np
import pytest
from conftest import assert_ok, assert_one_error, run_mpi_script, run_neurodamus

pytestmark = pytest.mark.mpi
SCRIPTS = Path(__file__).parent / "scripts"
TIMEOUT = 180
EXC, INH = range(0, 4), range(4, 6)  # gids: populations exc (4 cells) then inh (2 cells)


def configure(config: Path, modifications, compartment_sets=None) -> Path:
    raw = json.loads(config.read_text())
    raw["conditions"]["modifications"] = modifications
    if compartment_sets is not None:
        path = config.parent / "compartment_sets.json"
        path.write_text(json.dumps(compartment_sets))
        raw["compartment_sets_file"] = path.name
    config.write_text(json.dumps(raw, indent=2))
    return config


def read_sections(output: Path, ranks: int) -> dict:
    cells = {}
    for rank in range(ranks):
        part = json.loads((output / f"sections_rank{rank}.json").read_text())
        cells.update({int(gid): sections for gid, sections in part.items()})
    return cells


@pytest.mark.parametrize("ranks", [1, 2])
def test_each_type_changes_exactly_its_sections(small_circuit, tmp_path, ranks):
    config = configure(small_circuit(tstop=5.0), [
        {"name": "cm", "type": "configure_all_sections", "node_set": "exc",
         "section_configure": "%s.cm = 2"},
        {"name": "apical", "type": "section_list", "node_set": "exc",
         "section_configure": "apical.e_pas = -70; apical.g_pas *= 2"},
        {"name": "dend1", "type": "section", "node_set": "exc",
         "section_configure": "dend[1].cm *= 1.5"},
        # Two offsets in the middle segment of gid 0's soma (changed once), one in gid 2's axon.
        {"name": "halve_na", "type": "compartment_set", "compartment_set": "na_sites",
         "section_configure": "gnabar_hh *= 0.5"},
    ], compartment_sets={"na_sites": {"population": "exc", "compartment_set": [
        [0, 0, 0.5], [0, 0, 0.501], [2, 1, 0.5]]}})
    output = tmp_path / "out"
    output.mkdir()
    assert_ok(run_mpi_script(SCRIPTS / "dump_sections.py",
                             [config, output, "cm", "e_pas", "g_pas", "gnabar_hh"], ranks=ranks,
                             timeout=TIMEOUT))
    cells = read_sections(output, ranks)
    assert sorted(cells) == [*EXC, *INH]
    for gid in EXC:
        for name, values in cells[gid].items():
            assert set(values["cm"]) == {3.0 if name == "dend[1]" else 2.0}, (gid, name)
            if name.startswith("apic"):
                assert set(values["e_pas"]) == {-70.0} and set(values["g_pas"]) == {2e-4}
            elif name.startswith("dend"):
                assert set(values["e_pas"]) == {-65.0} and set(values["g_pas"]) == {1e-4}
            else:  # soma and axon: hh, halved only in the compartment set's segments
                middle = len(values["gnabar_hh"]) // 2
                changed = (gid, name) in ((0, "soma[0]"), (2, "axon[0]"))
                expected = [0.06 if changed and i == middle else 0.12
                            for i in range(len(values["gnabar_hh"]))]
                assert values["gnabar_hh"] == pytest.approx(expected), (gid, name)
    assert any(name.startswith("apic") for name in cells[0])
    for gid in INH:  # not in any node set: untouched
        assert {v for values in cells[gid].values() for v in values["cm"]} == {1.0}


# A sodium channel following the convention of Blue Brain's (NaTg, NaTs2_t, ...): closed while
# ttxi == 0.015625 (a TTX switch is present) and ttxo > 1e-12. Kinetics of NEURON's hh.
TTX_SODIUM = """
NEURON {
    SUFFIX NdTestNaTtx
    USEION na READ ena WRITE ina
    USEION ttx READ ttxo, ttxi VALENCE 1
    RANGE gbar
}
UNITS { (mA) = (milliamp) (mV) = (millivolt) (S) = (siemens) (mM) = (milli/liter) }
PARAMETER { gbar = 0.12 (S/cm2) }
ASSIGNED { v (mV) ena (mV) ina (mA/cm2) ttxo (mM) ttxi (mM) celsius (degC)
           minf hinf mtau (ms) htau (ms) }
STATE { m h }
BREAKPOINT {
    SOLVE states METHOD cnexp
    ina = gbar * m * m * m * h * (v - ena)
}
INITIAL { rates(v) m = minf h = hinf }
DERIVATIVE states {
    rates(v)
    m' = (minf - m) / mtau
    h' = (hinf - h) / htau
}
FUNCTION vtrap(x (mV), y (mV)) (mV) {
    if (fabs(x / y) < 1e-6) { vtrap = y * (1 - x / y / 2) } else { vtrap = x / (exp(x / y) - 1) }
}
PROCEDURE rates(v (mV)) { LOCAL alpha, beta, q10
    UNITSOFF
    if (ttxi == 0.015625 && ttxo > 1e-12) {
        minf = 0  mtau = 1e-12  hinf = 1  htau = 1e-12
    } else {
        q10 = 3 ^ ((celsius - 6.3) / 10)
        alpha = 0.1 * vtrap(-(v + 40), 10)
        beta = 4 * exp(-(v + 65) / 18)
        mtau = 1 / (q10 * (alpha + beta))
        minf = alpha / (alpha + beta)
        alpha = 0.07 * exp(-(v + 65) / 20)
        beta = 1 / (exp(-(v + 35) / 10) + 1)
        htau = 1 / (q10 * (alpha + beta))
        hinf = alpha / (alpha + beta)
    }
    UNITSON
}
"""

# Our template contract, with the sodium current from NdTestNaTtx (hh keeps K and leak).
TTX_TEMPLATE = """
{ load_file("nd_morphology.hoc") }
begintemplate NdTestTtxCell
public init, gid, soma, axon, dend, apic, all, somatic, axonal, basal, apical
public connect2target, getThreshold, synlist, threshold_current
create soma[1], axon[1], dend[1], apic[1]
objref all, somatic, axonal, basal, apical, synlist, this
external nd_load_morphology
proc init() {
    gid = $1
    threshold_current = 0
    all = new SectionList()
    somatic = new SectionList()
    axonal = new SectionList()
    basal = new SectionList()
    apical = new SectionList()
    synlist = new List()
    nd_load_morphology(this, $s2, $s3)
    forsec all { nseg = 1 + 2 * int(L / 40)  Ra = 100  cm = 1 }
    forsec somatic { insert hh  gnabar_hh = 0  insert NdTestNaTtx }
    forsec axonal { insert hh  gnabar_hh = 0  insert NdTestNaTtx }
    forsec basal { insert pas  g_pas = 0.0001  e_pas = -65 }
    forsec apical { insert pas  g_pas = 0.0001  e_pas = -65 }
}
obfunc connect2target() { localobj nc
    soma[0] nc = new NetCon(&v(0.5), $o1)
    nc.threshold = -30
    if (numarg() == 2) { $o2 = nc }
    return nc
}
func getThreshold() { return threshold_current }
endtemplate NdTestTtxCell
"""


def exc_spike_count(config: Path) -> int:
    spikes = libsonata.SpikeReader(str(config.parent / "output" / "out.h5"))
    return len(spikes["exc"].get())


def test_ttx_silences_cells_whose_sodium_channel_reads_ttx(small_circuit):
    config = small_circuit(tstop=40.0)
    directory = config.parent
    (directory / "mechanisms").mkdir()
    (directory / "mechanisms" / "NdTestNaTtx.mod").write_text(TTX_SODIUM)
    (directory / "emodels" / "NdTestTtxCell.hoc").write_text(TTX_TEMPLATE)
    circuit_config = directory / "circuit_config.json"
    raw = json.loads(circuit_config.read_text())
    raw["components"]["mechanisms_dir"] = "$BASE_DIR/mechanisms"
    circuit_config.write_text(json.dumps(raw))
    with h5py.File(directory / "nodes.h5", "r+") as f:
        templates = f["nodes/exc/0/model_template"]
        templates[...] = np.array(["hoc:NdTestTtxCell"] * templates.shape[0], dtype=object)

    result = run_neurodamus([config, "--no-progress"], ranks=2, timeout=TIMEOUT)
    assert_ok(result)
    without_ttx = exc_spike_count(config)
    assert without_ttx > 0  # the cells spike with the channel: TTX has something to remove

    configure(config, [{"name": "block", "type": "ttx", "node_set": "exc"}])
    result = run_neurodamus([config, "--no-progress"], ranks=2, timeout=TIMEOUT)
    assert_ok(result)
    assert exc_spike_count(config) == 0
    assert "modification 'block' (ttx):" in result.stdout and "of 4 cells" in result.stdout
    assert "TTX has no effect" not in result.stdout


def test_older_object_form_and_ttx_without_readers(small_circuit):
    """The object form (name -> modification) is read with a warning; TTX on cells whose
    channels (NEURON's hh) do not read ttx warns that it has no effect."""
    config = configure(small_circuit(tstop=5.0), {
        "block": {"type": "ttx", "node_set": "exc"},
        "leak": {"type": "section_list", "node_set": "exc", "section_configure": "basal.g_pas = 0"},
    })
    result = run_neurodamus([config, "--no-progress"], ranks=1, timeout=TIMEOUT)
    assert_ok(result)
    assert "older form" in result.stdout
    assert "modification 'leak' (section_list):" in result.stdout
    assert "TTX has no effect" in result.stdout


def run_expecting_error(config, *expected):
    result = run_neurodamus([config, "--no-progress"], ranks=2, timeout=TIMEOUT)
    message = assert_one_error(result, *expected)
    assert not (config.parent / "output" / "out.h5").exists()
    return message


def node_set_modification(kind, statement, node_set="exc"):
    return [{"name": "m", "type": kind, "node_set": node_set, "section_configure": statement}]


KEY = "key 'conditions.modifications[0]"


@pytest.mark.parametrize("modifications, expected", [
    pytest.param([{"name": "m", "type": "bogus", "node_set": "exc"}],
                 [f"{KEY}.type'", "unknown modification type 'bogus'", "ttx, configure_all_sections"],
                 id="unknown-type"),
    pytest.param([{"name": "m", "type": "section", "node_set": "exc"}],
                 [f"{KEY}.section_configure'", "missing mandatory key"], id="no-statement"),
    pytest.param(node_set_modification("configure_all_sections", "%s.gnabar_hh = abs(1)"),
                 [f"{KEY}.section_configure'", "modification 'm'", "is not an assignment"],
                 id="bad-statement"),
    pytest.param(node_set_modification("configure_all_sections", "%s.gnabar_hhh = 0"),
                 [f"{KEY}.section_configure'", "'gnabar_hhh' is neither a section property"],
                 id="unknown-variable"),
    pytest.param(node_set_modification("section_list", "dendrites.cm = 2"),
                 [f"{KEY}.section_configure'", "'dendrites' is not a section list"],
                 id="unknown-section-list"),
    pytest.param(node_set_modification("configure_all_sections", "%s.cm = 2", "nowhere"),
                 [f"{KEY}.node_set'", "node set 'nowhere' is not defined"], id="unknown-node-set"),
    pytest.param([{"name": "m", "type": "compartment_set", "compartment_set": "nowhere",
                   "section_configure": "cm = 2"}],
                 [f"{KEY}.compartment_set'", "needs a top-level compartment_sets_file"],
                 id="no-compartment-sets"),
    pytest.param(node_set_modification("section", "apic[500].cm = 2"),
                 [f"{KEY}.section_configure'", "modification 'm' (section)", "has no apic[500]",
                  "apic[0] to apic["], id="section-out-of-range"),
    pytest.param(node_set_modification("section", "soma[0].e_pas = 0"),
                 [f"{KEY}.section_configure'", "soma[0] has no 'e_pas'"],
                 id="section-lacks-variable"),
    pytest.param(node_set_modification("configure_all_sections", "%s.gnabar_hh = 0", "inh"),
                 [f"{KEY}.section_configure'", "modification 'm' (configure_all_sections) "
                  "changes nothing", "has no 'gnabar_hh'"], id="no-section-has-variable"),
])
def test_bad_modification(small_circuit, modifications, expected):
    config = configure(small_circuit(tstop=5.0), modifications)
    run_expecting_error(config, config, *expected)
