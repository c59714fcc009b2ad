"""Cases about options and refusals: the reference's integration-e2e/test_cli_opts.py,
unit-allen-v1-mpi's error handling and test_multicycle_runs.py."""

from .context import Context, RunFailed, case, merged
from .outputs import check, spikes_path


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
