"""Cases about options and refusals: the reference's integration-e2e/test_cli_opts.py,
unit-allen-v1-mpi's error handling and test_multicycle_runs.py."""

import json

from .context import USECASE3_IDS, USECASE3_TIMES, Context, RunFailed, case, merged
from .outputs import check, close, spikes, spikes_path


@case("unit-allen-v1-mpi/test_ringcells_allen_v1.py::test_errorhandling")
def allen_gaba(c: Context):
    directory = c.simulations / "ringtest_allen_v1"
    config = merged(c.from_file(directory, "simulation_config.json"),
                    {"conditions": {"randomize_gaba_rise_time": True}})
    try:
        c.run(config, ranks=2)
    except RunFailed as error:
        text = str(error)
        return [check("refused, naming randomize_gaba_rise_time and ProbGABAAB_EMS",
                      "randomize_gaba_rise_time" in text and "ProbGABAAB_EMS" in text, text)]
    return [check("refused", False, "the run was accepted")]


@case("integration-e2e/test_cli_opts.py::test_cli_disable_reports")
def disable_reports(c: Context):
    config = c.v5_base()
    quiet = c.run(config, args=("--disable-reports",))
    loud = c.run(config)
    names = list(config.get("reports", {}))
    return [check("spikes written with --disable-reports", spikes_path(quiet).is_file()),
            check("no report files with --disable-reports",
                  not any((quiet / f"{n}.h5").exists() for n in names)),
            check("report files without it", all((loud / f"{n}.h5").exists() for n in names),
                  f"{names}")]


# -- tests/integration-e2e/test_multicycle_runs.py -----------------------------------------

def _multicycle(c: Context, config: dict, steps: int, ids, times):
    """Spikes only: the tests assert nothing else, and frame reports are refused with
    --modelbuilding-steps here (CoreNEURON's report writer is not in NEURON's wheel), so the
    case adds --disable-reports to the test's command."""
    out = c.run(config, args=("--modelbuilding-steps", str(steps), "--disable-reports"))
    got_times, got_ids = spikes(out)
    summary = json.loads((out / "run_summary.json").read_text())
    return [close("spike node ids", got_ids, ids), close("spike times", got_times, times),
            check(f"built in {steps} cycles", summary.get("modelbuilding_steps") == steps,
                  f"{summary.get('modelbuilding_steps')}")]


@case("integration-e2e/test_multicycle_runs.py::test_v5_sonata_multisteps "
      "(with --disable-reports)")
def v5_multisteps(c: Context):
    config = merged(c.from_file(c.v5, "simulation_config_mini.json"),
                    {"target_simulator": "CORENEURON"})
    return _multicycle(c, config, 3, [4, 2, 0], [33.425, 37.35, 39.725])


@case("integration-e2e/test_multicycle_runs.py::test_usecase3_sonata_multisteps "
      "(with --disable-reports)")
def usecase3_multisteps(c: Context):
    config = c.from_file(c.usecase3, "simulation_sonata_coreneuron.json")
    return _multicycle(c, config, 2, USECASE3_IDS, USECASE3_TIMES)
