"""Cases of the reference's tests/integration-e2e/test_reports.py (and
test_coreneuron_directmode.py): compartment, summation and compartment-set reports against each
other and against its stored reference reports."""

from pathlib import Path

from .context import Context, RunFailed, case, merged
from .outputs import Report, check, close, spikes

# -- tests/integration-e2e/test_reports.py -----------------------------------------------

def _report(kind, variable, sections=None, scaling="none", **more):
    raw = {"type": kind, "cells": "Mosaic", "variable_name": variable, "dt": 1,
           "start_time": 0.0, "end_time": 40.0, **more}
    if sections:
        raw["sections"] = sections
    if scaling:
        raw["scaling"] = scaling
    return raw


def reports_extra(c: Context, base: str, simulator: str) -> dict:
    """make_extra_config of the reference's test_reports.py."""
    everything = {"compartments": "all"}
    reports = {
        "compartment_v": _report("compartment", "v", "all"),
        "summation_v": _report("summation", "v", "soma"),
        "compartment_i_membrane": _report("compartment", "i_membrane", "all"),
        "summation_i_membrane": _report("summation", "i_membrane", "soma"),
        "compartment_pas": _report("compartment", "pas", "all"),
        "summation_pas": _report("summation", "pas", "soma"),
        "summation_v_area_scaling": _report("summation", "v", "soma", scaling=None),
        "summation_IClamp": _report("summation", "IClamp", "all", **everything),
        "summation_i_membrane_IClamp": _report("summation", "i_membrane,IClamp", "all",
                                               **everything),
        "summation_IClamp_i_membrane": _report("summation", "IClamp,i_membrane", "all",
                                               **everything),
        "summation_ProbAMPANMDA_EMS": _report("summation", "ProbAMPANMDA_EMS", "all",
                                              **everything),
    }
    stimulus = {"module": "pulse", "input_type": "current_clamp",
                "represents_physical_electrode": True, "amp_start": 3, "width": 10,
                "frequency": 50, "delay": 0, "duration": 50}
    if base == "v5":
        stimulus["node_set"] = "Mini5"
        sets = str(c.v5 / "compartment_sets.json")
        for variable in ("v", "i_membrane", "pas"):
            reports[f"compartment_set_{variable}"] = {
                "type": "compartment_set", "compartment_set": "cs1", "variable_name": variable,
                "dt": 1, "start_time": 0.0, "end_time": 40.0, "scaling": "none"}
        reports["synapse_ProbAMPANMDA_EMS_tau_d_AMPA"] = {
            "type": "synapse", "cells": "Mosaic", "variable_name": "ProbAMPANMDA_EMS.tau_d_AMPA",
            "sections": "all", "unit": "nS", "dt": 1, "start_time": 0.0, "end_time": 40.0}
    else:
        stimulus["node_set"] = "RingA"
        sets = str(c.ringtest / "compartment_sets.json")
        for name, which in (("compartment_set_A_v", "csA"), ("compartment_set_B_v", "csB")):
            reports[name] = {"type": "compartment_set", "compartment_set": which,
                             "variable_name": "v", "dt": 1, "start_time": 0.0,
                             "end_time": 40.0, "scaling": "none"}
    return {"target_simulator": simulator, "compartment_sets_file": sets,
            "inputs": {"override_field": 1, "Stimulus": stimulus},
            "reports": reports}  # merged into the base's (v5's soma_report stays)


def _against_references(out: Path, reference_dir: Path) -> list:
    """Each stored reference report equals ours: exactly, summation_i_membrane within 1e-6
    (the reference's tolerances; its references were made under NEURON)."""
    results = []
    for reference in sorted(reference_dir.glob("*.h5")):
        tolerance = {"rtol": 1e-6, "atol": 1e-6} \
            if reference.name == "summation_i_membrane.h5" else {}
        mine = out / reference.name
        if not mine.exists():
            results.append(check(f"{reference.name} equals the reference", False, "not written"))
            continue
        ok, why = Report(mine).allclose(Report(reference), **tolerance)
        results.append(check(f"{reference.name} equals the reference", ok, why))
    return results


def _reports_case(c: Context, base: str, simulator: str, args=()):
    config = merged(c.v5_base() if base == "v5" else c.ringtest_base(),
                    reports_extra(c, base, simulator))
    out = c.run(config, args=args)
    loose = {"rtol": 1e-6, "atol": 1e-6}
    results = []
    for variable in ("v", "i_membrane", "pas"):
        summed = Report(out / f"compartment_{variable}.h5").summed_per_node()
        ok, why = summed.allclose(Report(out / f"summation_{variable}.h5"), **loose)
        results.append(check(f"compartment_{variable} summed == summation_{variable}", ok, why))
    ok, why = Report(out / "summation_i_membrane_IClamp.h5").allclose(
        Report(out / "summation_IClamp_i_membrane.h5"))
    results.append(check("summation i_membrane,IClamp == IClamp,i_membrane", ok, why))
    manual = Report(out / "compartment_i_membrane.h5").plus(Report(out / "summation_IClamp.h5"))
    ok, why = Report(out / "summation_i_membrane_IClamp.h5").allclose(manual, **loose)
    results.append(check("summation i_membrane,IClamp == compartment i_membrane + IClamp", ok,
                         why))
    results += _against_references(out, (c.v5 if base == "v5" else c.ringtest)
                                   / "reference" / "reports")
    if base == "v5":
        for variable in ("v", "i_membrane", "pas"):
            picked = Report(out / f"compartment_{variable}.h5").columns(
                "default", [0, 7, 7, 8, 190, 206, 348, 360])
            ok, why = picked.allclose(Report(out / f"compartment_set_{variable}.h5"))
            results.append(check(f"compartment_{variable} columns == compartment_set_{variable}",
                                 ok, why))
    else:
        compartment = Report(out / "compartment_v.h5")
        for population, positions, name in (("RingA", [5, 8, 9], "A"),
                                            ("RingB", [0, 1, 2], "B")):
            ok, why = compartment.columns(population, positions).allclose(
                Report(out / f"compartment_set_{name}_v.h5"))
            results.append(check(f"compartment_v columns == compartment_set_{name}_v", ok, why))
    return results


for _base, _simulator in (("v5", "NEURON"), ("v5", "CORENEURON"), ("ringtest", "NEURON"),
                          ("ringtest", "CORENEURON")):
    case("integration-e2e/test_reports.py::test_reports_compartment_vs_summation_reference_"
         f"compartment_set[{_base}-{_simulator}]")(
        lambda c, b=_base, s=_simulator: _reports_case(c, b, s))


@case("integration-e2e/test_reports.py::test_results_are_identical_with_single_report")
def single_report(c: Context):
    extra = reports_extra(c, "ringtest", "NEURON")
    extra["reports"] = {"override_field": 1,
                        "compartment_set_A_v": extra["reports"]["compartment_set_A_v"]}
    out = c.run(merged(c.ringtest_base(), extra))
    name = "compartment_set_A_v.h5"
    ok, why = Report(c.ringtest / "reference" / "reports" / name).allclose(Report(out / name))
    return [check(f"{name} equals the reference", ok, why)]


def _v5_under_coreneuron(c: Context, args=()) -> list:
    """v5_sonata under CoreNEURON with every report of the test's extra config, against the
    stored references."""
    out = c.run(merged(c.v5_base(), reports_extra(c, "v5", "CORENEURON")), args=args)
    return _against_references(out, c.v5 / "reference" / "reports")


@case("integration-e2e/test_reports.py::test_reports_cell_permute")
def reports_cell_permute(c: Context):
    return _v5_under_coreneuron(c, args=("--cell-permute", "node-adjacency"))


@case("integration-e2e/test_reports.py::test_compartment_missing_ref (refused)")
def compartment_missing_ref(c: Context):
    """A compartment report of a point process that is not in every compartment (or is
    several times in one) has no value per compartment: the reference refuses it."""
    config = merged(c.v5_base(), {"target_simulator": "NEURON", "reports": {
        "compartment_ProbAMPANMDA_EMS": {
            "type": "compartment", "cells": "Mosaic", "variable_name": "ProbAMPANMDA_EMS",
            "sections": "all", "compartments": "all", "dt": 1, "start_time": 0.0,
            "end_time": 40.0, "scaling": "none"}}})
    try:
        c.run(config)
    except RunFailed as error:
        return [check("refused, naming ProbAMPANMDA_EMS", "ProbAMPANMDA_EMS" in str(error),
                      str(error))]
    return [check("refused", False, "the run was accepted")]


# -- tests/integration-e2e/test_coreneuron_directmode.py (CoreNEURON runs in memory here) ---

@case("integration-e2e/test_coreneuron_directmode.py::test_coreneuron_no_write_model "
      "(outputs)")
def coreneuron_direct_outputs(c: Context):
    out = c.run(c.from_file(c.usecase3, "simulation_sonata_coreneuron.json"))
    times, ids = spikes(out, "NodeA")
    soma = Report(out / "soma_report.h5").populations
    return [close("NodeA's first 10 spike times", times[:10],
                  [0.2, 0.3, 0.3, 2.5, 3.4, 4.2, 5.5, 7., 7.4, 8.6]),
            close("NodeA's first 10 spike node ids", ids[:10], [0, 1, 2, 0, 1, 2, 0, 0, 1, 2]),
            close("NodeA soma voltage, t = 0 to 0.5 ms", soma["NodeA"][2][:6],
                  [[-75.], [-39.78627], [-14.380434], [15.3370695], [1.7240616], [-13.333434]]),
            close("NodeB soma voltage, t = 0 to 0.5 ms", soma["NodeB"][2][:6],
                  [[-75.], [-75.00682], [-75.010414], [-75.0118], [-75.01173], [-75.010635]])]


@case("integration-e2e/test_coreneuron_directmode.py::test_reports_direct_mode_vs_reference")
def coreneuron_direct_references(c: Context):
    return _v5_under_coreneuron(c)
