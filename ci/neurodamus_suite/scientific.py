"""Cases of the reference's tests/scientific: projections, simulation (spikes of usecase3,
v5_sonata, v5_gapjunctions), extracellular stimulation, neuromodulation, v5 modifications and
current injection."""

import json
from pathlib import Path

import libsonata
import numpy as np

from .context import USECASE3_IDS, USECASE3_TIMES, Context, case, merged
from .outputs import check, close, spike_count, spikes

# -- tests/scientific/test_projections.py ------------------------------------------------

def _projection_case(c: Context, delay_override: bool, simulator: str):
    config = c.usecase3_base()
    config["node_set"] = "nodesPopA"
    config["target_simulator"] = simulator
    overrides = [{"name": "nodeB-nodeA", "source": "nodesPopB", "target": "nodesPopA",
                  "synapse_configure": "%s.verboseLevel=1"},
                 {"name": "nodeA-nodeA", "source": "nodesPopA", "target": "nodesPopA"}]
    if delay_override:
        overrides[0]["synapse_delay_override"] = 3.0
        overrides[1]["synapse_delay_override"] = 5.0
    config["connection_overrides"] = overrides
    config["inputs"] = {"spikeReplay": {
        "module": "synapse_replay", "input_type": "spikes",
        "spike_file": str(c.usecase3 / "input_NodeB.h5"), "delay": 0, "duration": 1000,
        "node_set": "nodesPopA"}}
    # the soma voltage of the first cell of the report's node set at every step
    config["reports"] = {"soma": {"type": "compartment", "cells": "l4pc", "variable_name": "v",
                                  "sections": "soma", "dt": 0.05, "start_time": 0.0,
                                  "end_time": 50.0}}
    out = c.run(config)
    reader = libsonata.SomaReportReader(str(out / "soma.h5"))
    population = reader.get_population_names()[0]
    first = reader[population].get_node_ids()[0]
    voltage = np.asarray(reader[population].get(node_ids=[first]).data).flatten()
    window = np.convolve(np.diff(voltage, 2), [1, 2, 4, 2, 1], "valid")
    strong = np.nonzero(window < -0.03)[0]
    expected = [119, 120] if delay_override else [96, 97]
    return [check("1 <= drops <= 2 % of the trace", 1 <= len(strong) <= int(0.02 * len(window)),
                  f"{len(strong)} drops"),
            check(f"drops at {expected}", np.array_equal(strong, expected), f"at {strong}")]


for _delay in (False, True):
    for _simulator in ("NEURON", "CORENEURON"):
        case(f"scientific/test_projections.py::test_synapse_delay_override[delay={_delay}-"
             f"{_simulator}]")(lambda c, d=_delay, s=_simulator: _projection_case(c, d, s))


# -- tests/scientific/test_simulation.py -------------------------------------------------

def _spikes_case(c, directory, file, times, gids):
    config = c.from_file(directory, file)
    out = c.run(config, args=("--disable-reports",))
    got_times, got_ids = spikes(out)
    return [close("spike node ids", got_ids, gids), close("spike times", got_times, times)]


@case("scientific/test_simulation.py::test_simulation_sonata_config")
def usecase3_spikes(c: Context):
    return _spikes_case(c, c.usecase3, "simulation_sonata.json", USECASE3_TIMES, USECASE3_IDS)


@case("scientific/test_simulation.py::test_v5_sonata_config")
def v5_spikes(c: Context):
    return _spikes_case(c, c.v5, "simulation_config_mini.json", [33.425, 37.35, 39.725],
                        [4, 2, 0])


@case("scientific/test_simulation.py::test_v5_gap_junction (outputs: spikes, voltage peaks)")
def v5_gap_junctions(c: Context):
    directory = c.simulations / "v5_gapjunctions"
    config = c.from_file(directory, "simulation_config.json")
    first = "gj_first"
    sets = c.work / "gj_sets.json"
    population = json.loads(Path(config["network"]).read_text())
    sets.write_text(json.dumps({first: {"population": _first_population(population, config),
                                        "node_id": [0]}}))
    config["node_sets_file"] = str(sets) if "node_sets_file" not in config else \
        _merge_node_sets(config["node_sets_file"], sets, c.work)
    config["reports"] = {"v": {"type": "compartment", "cells": first, "variable_name": "v",
                               "sections": "soma", "dt": 0.125, "start_time": 0.0,
                               "end_time": config["run"]["tstop"]}}
    out = c.run(config)
    voltage = np.asarray(libsonata.SomaReportReader(str(out / "v.h5"))[
        _first_population(population, config)].get().data).flatten()
    rate = np.diff(voltage, 2)
    peaks = [i for i in range(1, rate.size - 1)
             if rate[i] >= 2 and rate[i] > rate[i - 1] and rate[i] >= rate[i + 1]]
    times, ids = spikes(out)
    return [check("7 peaks of d2v (scipy find_peaks, height 2)", len(peaks) == 7,
                  f"{len(peaks)} peaks"),
            check("2 spikes", times.size == 2, f"{times.size} spikes"),
            check("first spike from gid 0", ids.size and ids[0] == 0, f"{ids}"),
            check("first spike at 21.025 ms", times.size and abs(times[0] - 21.025) < 1e-6,
                  f"{times}")]


def _first_population(circuit: dict, config: dict) -> str:
    nodes = circuit["networks"]["nodes"][0]
    return sorted(nodes["populations"])[0]


def _merge_node_sets(existing, extra: Path, work: Path) -> str:
    merged_sets = json.loads(Path(existing).read_text())
    merged_sets.update(json.loads(extra.read_text()))
    path = work / "gj_all_sets.json"
    path.write_text(json.dumps(merged_sets))
    return str(path)


# -- tests/scientific/test_extracellular_stimulation.py ----------------------------------

@case("scientific/test_extracellular_stimulation.py::test_efields_stimulus_neuron")
def efield_spikes(c: Context):
    config = c.from_file(c.usecase3, "simulation_sonata.json")
    config["target_simulator"] = "NEURON"
    config["inputs"] = merged(config.get("inputs", {}), {"ex_efields": {
        "input_type": "extracellular_stimulation", "module": "spatially_uniform_e_field",
        "delay": 0, "duration": 10, "node_set": "Mosaic",
        "fields": [{"Ex": 50, "Ey": -25, "Ez": 75, "frequency": 100},
                   {"Ex": 100, "Ey": -50, "Ez": 50, "frequency": 0}],
        "ramp_up_time": 3.0, "ramp_down_time": 4.0}})
    out = c.run(config, args=("--disable-reports",))
    times, ids = spikes(out)
    gids = [0, 1, 2, 0, 1, 2, 0, 1, 2, 2, 2, 2, 0, 2, 0, 2, 1, 0, 2, 0]
    expected = [0.2, 0.3, 0.3, 2.5, 3.4, 4.2, 7.2, 7.3, 8.6, 13.8, 19.6, 25.7, 28.9, 32.0, 35.8,
                38.5, 41.4, 42.0, 45.2, 47.7]
    return [close("spike node ids", ids, gids), close("spike times", times, expected)]


# -- tests/scientific/test_neuromodulation.py, test_v5_modification.py ------------------

for _simulator in ("NEURON", "CORENEURON"):
    @case(f"scientific/test_neuromodulation.py::test_neuromodulation_sims[{_simulator}]")
    def neuromodulation(c: Context, simulator=_simulator):
        config = c.from_file(c.simulations / "neuromodulation", "simulation_config.json")
        config["target_simulator"] = simulator
        times, ids = spikes(c.run(config, args=("--disable-reports",)))
        return [close("spike node ids", ids, [0, 1, 1]),
                close("spike times", times, [1.55, 2.025, 13.525])]



@case("scientific/test_v5_modification.py::test_ttx_modification")
def ttx(c: Context):
    base = c.v5_base()
    with_ttx = merged(base, {"conditions": {"modifications": [
        {"name": "applyTTX", "node_set": "Mini5", "type": "ttx"}]}})
    before = spike_count(c.run(base, args=("--disable-reports",)))
    after = spike_count(c.run(with_ttx, args=("--disable-reports",)))
    return [check("spikes without TTX > 0", before > 0, f"{before}"),
            check("no spikes with TTX", after == 0, f"{after}")]


@case("scientific/test_v5_modification.py::test_configure_all_sections_modification")
def configure_all_sections(c: Context):
    base = merged(c.v5_base(), {"run": {"tstop": 150}})
    changed = merged(base, {"conditions": {"modifications": [
        {"name": "no_SK_E2", "node_set": "Mini5", "type": "configure_all_sections",
         "section_configure": "%s.gSK_E2bar_SK_E2 = 0"}]}})
    before = spike_count(c.run(base, args=("--disable-reports",)))
    after = spike_count(c.run(changed, args=("--disable-reports",)))
    return [check("more spikes with gSK_E2bar = 0", after > before, f"{after} vs {before}")]


# -- tests/scientific/test_current_injection.py -----------------------------------------

for _input_type in ("current_clamp", "conductance"):
    @case("scientific/test_current_injection.py::test_current_conductance_injection"
          f"[{_input_type}]")
    def injection(c: Context, input_type=_input_type):
        traces = []
        for electrode in (True, False):
            stimulus = {"input_type": input_type, "delay": 5, "duration": 2100,
                        "node_set": "l4pc", "represents_physical_electrode": electrode}
            if input_type == "current_clamp":
                stimulus.update({"module": "noise", "mean": 0.05, "variance": 0.01})
            else:
                stimulus.update({"module": "ornstein_uhlenbeck", "mean": 0.05, "sigma": 0.01,
                                 "tau": 0.1})
            config = merged(c.usecase3_base(), {"inputs": {"Stimulus": stimulus}, "reports": {
                "current": {"type": "summation", "cells": "l4pc", "variable_name": "i_membrane",
                            "unit": "nA", "dt": 0.1, "start_time": 0.0, "end_time": 50.0},
                "voltage": {"type": "compartment", "cells": "l4pc", "variable_name": "v",
                            "unit": "mV", "dt": 0.1, "start_time": 0.0, "end_time": 50.0}}})
            reader = libsonata.SomaReportReader(str(c.run(config) / "voltage.h5"))
            population = reader.get_population_names()[0]
            first = reader[population].get_node_ids()[0]
            traces.append(np.asarray(reader[population].get(node_ids=[first]).data).flatten())
        return [check("soma voltage equal with and without represents_physical_electrode",
                      np.array_equal(traces[0], traces[1]),
                      f"max |difference| {np.max(np.abs(traces[0] - traces[1])):.3g}")]
