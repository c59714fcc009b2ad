"""Cases of the reference's tests/unit-mpi: test_base (cells per rank), the condition
modifications (read back through --dump-cell-state) and the constant e-field's waveform."""

import json
from pathlib import Path

import numpy as np

from .context import Context, case, merged
from .outputs import Report, check, close

# -- tests/unit-mpi/test_base.py ----------------------------------------------------------

def _ring_a_gids_by_rank(output: Path) -> list:
    """RingA's node ids on each rank, from distribution.json (gid = offset + node id)."""
    distribution = json.loads((output / "distribution.json").read_text())
    offsets = dict(line.split("::") for line in
                   (output / "populations_offset.dat").read_text().split())
    first, size = int(offsets["RingA"]), 3
    return [sorted(g - first for g in gids if first <= g < first + size)
            for gids in distribution["gids_by_rank"]]


for _simulator in ("NEURON", "CORENEURON"):
    @case(f"unit-mpi/test_base.py::test_neurodamus_with_neuron_and_coreneuron[{_simulator}]")
    def neuron_and_coreneuron(c: Context, simulator=_simulator):
        config = merged(c.ringtest_base(), {"target_simulator": simulator, "inputs": {
            "Stimulus": {"module": "pulse", "input_type": "current_clamp", "delay": 5,
                         "duration": 50, "node_set": "RingA",
                         "represents_physical_electrode": True, "amp_start": 10, "width": 1,
                         "frequency": 50}}})
        placed = _ring_a_gids_by_rank(c.run(config, ranks=2, args=("--disable-reports",)))
        return [check("RingA's cells: [0, 2] on rank 0, [1] on rank 1", placed == [[0, 2], [1]],
                      f"{placed}")]


@case("unit-mpi/test_base.py::test_empty_rank_with_coreneuron (runs; cells per rank)")
def empty_rank(c: Context):
    config = merged(c.ringtest_base(), {"target_simulator": "CORENEURON",
                                        "node_set": "RingA:oneCell"})
    placed = _ring_a_gids_by_rank(c.run(config, ranks=2, args=("--disable-reports",)))
    return [check("the one cell on rank 0, none on rank 1", placed == [[1], []], f"{placed}")]


# -- tests/unit-mpi/test_condition_modifications.py -----------------------------------------

MODIFICATIONS = {  # type: (target key, target, section_configure, expected gnabar_hh of cell 1)
    "section_list": ("node_set", "RingA:oneCell", "somatic.gnabar_hh *= 2.",
                     {"soma": [0.24]}),
    "section": ("node_set", "RingA:oneCell", "soma[0].gnabar_hh *= 2.", {"soma": [0.24]}),
    "compartment_set": ("compartment_set", "csA", "gnabar_hh *= 2.; gnabar_hh += 1.",
                        {"soma": [1.24], "dend": [0.12, 1.24]}),
}


def _gnabar(state: dict, kind: str) -> list:
    """gnabar_hh at the middle of each section of a kind, from a --dump-cell-state file."""
    values = []
    for section in state["sections"]:
        if section["name"].rsplit(".", 1)[-1].split("[")[0] != kind:
            continue
        middle = min(section["segments"], key=lambda seg: abs(seg["x"] - 0.5))
        values.append(middle["mechanisms"]["hh"]["gnabar_hh"])
    return values


for _simulator in ("NEURON", "CORENEURON"):
    for _kind in MODIFICATIONS:
        @case("unit-mpi/test_condition_modifications.py::test_modifications_with_neuron_and_"
              f"coreneuron_mpi_multiple_types[{_kind}-{_simulator}] (via --dump-cell-state)")
        def modification(c: Context, simulator=_simulator, kind=_kind):
            key, target, configure, expected = MODIFICATIONS[kind]
            extra = {"target_simulator": simulator, "conditions": {"modifications": [
                {"name": "augassign_test", "type": kind, key: target,
                 "section_configure": configure}]}}
            if key == "compartment_set":
                extra["compartment_sets_file"] = str(c.ringtest / "compartment_sets.json")
            out = c.run(merged(c.ringtest_base(), extra), ranks=2,
                        args=("--dump-cell-state", "0,1"))
            states = {gid: json.loads((out / "cell_state" / f"{gid}_t0.json").read_text())
                      for gid in (0, 1)}
            results = [close("cell 0 unchanged (soma, dend)",
                             _gnabar(states[0], "soma") + _gnabar(states[0], "dend"),
                             [0.12, 0.12, 0.12])]
            for kind_name, values in expected.items():
                results.append(close(f"cell 1 {kind_name} gnabar_hh",
                                     _gnabar(states[1], kind_name), values))
            return results


# -- tests/unit-mpi/test_extracellular_stimulus.py, tests/unit-allen-v1-mpi, test_cli_opts ---

@case("unit-mpi/test_extracellular_stimulus.py::test_one_constant_field (waveform of e)")
def one_constant_field(c: Context):
    """Its output is e_extracellular of a dendrite over time: recorded here by a compartment
    report, on 2 ranks; the waveform (each value over the plateau's) as the test expects it:
    0 at t = 0, then the field at each step's middle (ramp up 3 ms, ramp down 4 ms, dt 1)."""
    config = merged(c.ringtest_base(), {
        "network": str(c.ringtest / "circuit_config_bigA.json"),
        "run": {"dt": 1, "tstop": 17},
        "inputs": {"one_efield": {
            "input_type": "extracellular_stimulation", "module": "spatially_uniform_e_field",
            "delay": 0, "duration": 10, "node_set": "RingA",
            "fields": [{"Ex": 100, "Ey": -50, "Ez": 50, "frequency": 0}],
            "ramp_up_time": 3, "ramp_down_time": 4}},
        "reports": {"e": {"type": "compartment", "cells": "RingA_Cell0",
                          "variable_name": "e_extracellular", "sections": "dend",
                          "compartments": "all", "dt": 1, "start_time": 0.0,
                          "end_time": 17.0}}})
    out = c.run(config, ranks=2)
    _, _, data = Report(out / "e.h5").populations["RingA"]
    column = data[:, np.argmax(np.abs(data).max(axis=0))]
    shape = np.array([0, 1 / 6, 1 / 2, 5 / 6, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 7 / 8, 5 / 8, 3 / 8])
    return [close("e(t) / plateau", column / column[5], shape, rtol=1e-6, atol=1e-6)]
