"""Cases of the reference's tests/scientific/test_lfp.py: lfp reports on the ringtest and
v5_sonata, against its stored reference files and in-test values."""

from pathlib import Path

import h5py
import libsonata
import numpy as np

from .context import Context, case, merged
from .outputs import check, close

# -- tests/scientific/test_lfp.py --------------------------------------------------------

PULSE_A = {"stimulus_pulse": {"module": "pulse", "input_type": "current_clamp", "delay": 1,
                              "duration": 50, "node_set": "RingA",
                              "represents_physical_electrode": True, "amp_start": 10,
                              "width": 1, "frequency": 50}}


def lfp_report(cells, file):
    return {"type": "lfp", "cells": cells, "electrodes_file": str(file), "dt": 0.1,
            "start_time": 0.0, "end_time": 2.0}


def lfp_frames(path: Path, population: str):
    reader = libsonata.ElementReportReader(str(path))[population]
    return list(reader.get_node_ids()), np.asarray(reader.get().data, float)


@case("scientific/test_lfp.py::test_ringcircuit_lfp")
def ringcircuit_lfp(c: Context):
    config = merged(c.ringtest_base(), {
        "target_simulator": "CORENEURON", "inputs": PULSE_A,
        "reports": {"lfp_report": lfp_report("Mosaic", c.ringtest / "lfp_file.h5")}})
    out = c.run(config)
    results = []
    ids, data = lfp_frames(out / "lfp_report.h5", "RingA")
    results.append(check("RingA node ids [0, 1, 2]", ids == [0, 1, 2], f"{ids}"))
    results.append(close("RingA frame 11", data[11], [0.11541528, 0.12541528, 0.6154153,
                                                     0.62541527, 1.1154152, 1.1254153]))
    results.append(close("RingA frame 19", data[19], [0.11362588, 0.12362587, 0.6136259,
                                                     0.6236259, 1.1136259, 1.1236259]))
    ids, data = lfp_frames(out / "lfp_report.h5", "RingB")
    results.append(check("RingB node ids [0, 1]", ids == [0, 1], f"{ids}"))
    results.append(close("RingB frame 11", data[11], [6.4121537e-07] * 6))
    results.append(close("RingB frame 19", data[19], [8.2200177e-07] * 6))
    return results


def _lfp_single(c: Context, which: str):
    files = {"A": ("RingA", c.ringtest / "lfp_3elec_ringA.h5"),
             "B": ("RingA_Cell0", c.ringtest / "lfp_2elec_ringA_cell0.h5")}
    reports = {f"lfp_report_{w}": lfp_report(*files[w]) for w in which}
    return c.run(merged(c.ringtest_base(), {"target_simulator": "CORENEURON",
                                            "reports": reports, "inputs": PULSE_A}))


def _lfp_against_reference(c: Context, out: Path, which: str):
    expected = {"A": ([0, 1, 2], 9, "lfp_single_A.h5"), "B": ([0], 2, "lfp_single_B.h5")}
    nodes, width, reference = expected[which]
    ids, data = lfp_frames(out / f"lfp_report_{which}.h5", "RingA")
    _, ref = lfp_frames(c.ringtest / "reference" / "lfp_reports" / reference, "RingA")
    return [check(f"report {which}: node ids {nodes}", ids == nodes, f"{ids}"),
            check(f"report {which}: {width} columns", data.shape[1] == width, f"{data.shape}"),
            close(f"report {which} equals {reference} (rtol 1e-5)", data, ref, rtol=1e-5)]


@case("scientific/test_lfp.py::test_multi_lfp_report_single_A")
def lfp_single_a(c: Context):
    return _lfp_against_reference(c, _lfp_single(c, "A"), "A")


@case("scientific/test_lfp.py::test_multi_lfp_report_single_B")
def lfp_single_b(c: Context):
    return _lfp_against_reference(c, _lfp_single(c, "B"), "B")


@case("scientific/test_lfp.py::test_multi_lfp_report_combined")
def lfp_combined(c: Context):
    out = _lfp_single(c, "AB")
    return _lfp_against_reference(c, out, "A") + _lfp_against_reference(c, out, "B")


@case("scientific/test_lfp.py::test_v5_sonata_lfp")
def v5_sonata_lfp(c: Context):
    weights = c.work / "v5_lfp_weights.h5"
    with h5py.File(weights, "w") as f:  # the test's synthetic weights file, rebuilt
        for population, node_ids in {"default": [42, 0, 4], "other_pop": [77777, 88888]}.items():
            f[f"{population}/node_ids"] = node_ids
            counts = [2, 82, 140]
            f[f"{population}/offsets"] = np.append(np.add.accumulate(counts) - counts, 224)
            rows = [[0.1, 0.2], [0.3, 0.4]]
            x, y = 0.0, 0.0
            for _ in range(2, 224):
                rows.append([0.4 + x, 0.3 + y])
                x += 0.001
                y -= 0.0032
            f.create_dataset(f"electrodes/{population}/scaling_factors", dtype="f8", data=rows)
    config = merged(c.v5_base(), {"target_simulator": "CORENEURON", "reports": {
        "override_field": 1,
        "lfp": {"type": "lfp", "cells": "Mosaic", "electrodes_file": str(weights), "dt": 0.1,
                "start_time": 0.0, "end_time": 1.0}}})
    out = c.run(config)
    ids, data = lfp_frames(out / "lfp.h5", "default")
    return [close("frame 3", data[3], [0.00027065672, -0.00086610153, 0.0014563566,
                                       -0.0046603414]),
            close("frame 7", data[7], [0.00029265403, -0.0009364929, 0.001548515,
                                       -0.004955248]),
            close("node ids [0, 4]", ids, [0, 4])]
