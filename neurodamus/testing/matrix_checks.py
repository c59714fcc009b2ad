"""Running a row of the combination matrix (combinations.py) and holding it to the
invariants: exit 0 and no traceback; the spikes and report frames of its reference run
(NEURON, 1 rank, uninterrupted) after any solver, ranks, load balance and save/restore on
the other rank count; outputs readable by libsonata and bluepysnap. And the refused pairs:
one `neurodamus: error:` line each."""

import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .combinations import features_key, refusal_config, row_config


@dataclass
class Run:
    output: Path
    returncode: int
    stdout: str
    stderr: str


def _venv_tool(name: str) -> str:
    candidate = Path(sys.executable).parent / name
    return str(candidate) if candidate.exists() else name


def neurodamus(config: Path, output: Path, *args, ranks: int = 1, timeout: float = 300) -> Run:
    command = [_venv_tool("mpiexec"), "-n", str(ranks), sys.executable, "-m", "neurodamus",
               str(config), "--output-path", str(output), "--no-progress", *map(str, args)]
    result = subprocess.run(command, capture_output=True, text=True, timeout=timeout)
    return Run(output, result.returncode, result.stdout, result.stderr)


def run_problems(run: Run, what: str) -> list[str]:
    problems = []
    if run.returncode != 0:
        tail = (run.stderr or run.stdout).strip().splitlines()[-3:]
        problems.append(f"{what}: exit {run.returncode}: {' / '.join(tail)}")
    if "Traceback" in run.stdout + run.stderr:
        problems.append(f"{what}: printed a traceback")
    return problems


def read_outputs(output: Path, config: Path) -> tuple[dict, dict, list[str]]:
    """({population: (times, ids)} sorted, {report: (times, ids, data)}, problems), read
    with libsonata; and bluepysnap, where installed, must read them too."""
    import libsonata

    problems = []
    spikes = {}
    reader = libsonata.SpikeReader(str(output / "out.h5"))
    for population in reader.get_population_names():
        pairs = np.asarray(reader[population].get(), dtype=float).reshape(-1, 2)
        order = np.lexsort((pairs[:, 0], pairs[:, 1]))
        spikes[population] = (pairs[order, 1], pairs[order, 0].astype(np.int64))
    reports = {}
    for name in json.loads(config.read_text()).get("reports", {}):
        path = output / f"{name}.h5"
        if not path.is_file():
            problems.append(f"report {name}: no {path.name}")
            continue
        report = libsonata.ElementReportReader(str(path))
        for population in report.get_population_names():
            frames = report[population].get()
            reports[(name, population)] = (np.asarray(frames.times), np.asarray(frames.ids),
                                           np.asarray(frames.data))
    problems += _bluepysnap_problems(output, config)
    return spikes, reports, problems


SNAP_REPORT_TYPES = ("compartment", "summation")


def _bluepysnap_problems(output: Path, config: Path) -> list[str]:
    try:
        import bluepysnap
    except ImportError:
        return []
    raw = json.loads(config.read_text())
    raw["output"]["output_dir"] = str(output)
    raw["network"] = str((config.parent / raw["network"]).resolve())
    raw["node_sets_file"] = str((config.parent / raw["node_sets_file"]).resolve())
    if "compartment_sets_file" in raw:
        raw["compartment_sets_file"] = str((config.parent / raw["compartment_sets_file"]).resolve())
    for settings in raw["inputs"].values():
        if "spike_file" in settings:
            settings["spike_file"] = str((config.parent / settings["spike_file"]).resolve())
    # bluepysnap 3.0 reads frame reports by their `sections` only, "soma" (one value per
    # node) or "all": a synapse report (several elements per node, no sections) fails its
    # soma shape, a compartment_set report is "format invalid not yet supported" there
    # (libsonata reads both above)
    raw["reports"] = {name: report for name, report in raw.get("reports", {}).items()
                      if report.get("type") in SNAP_REPORT_TYPES}
    snap_config = output / "snap_simulation_config.json"
    snap_config.write_text(json.dumps(raw))
    try:
        simulation = bluepysnap.Simulation(str(snap_config))
        spikes = simulation.spikes
        for population in spikes.population_names:
            spikes[population].get()
        for name in simulation.reports:
            report = simulation.reports[name]
            for population in report.population_names:
                report[population].get()
    except Exception as error:  # noqa: BLE001 -- any failure to read is the finding
        return [f"bluepysnap cannot read the outputs: {type(error).__name__}: {error}"]
    finally:
        snap_config.unlink(missing_ok=True)
    return []


def compare(expected: tuple, actual: tuple, what: str) -> list[str]:
    (spikes_a, reports_a), (spikes_b, reports_b) = expected, actual
    problems = []
    if sorted(spikes_a) != sorted(spikes_b):
        problems.append(f"{what}: spiking populations {sorted(spikes_b)} != {sorted(spikes_a)}")
    for population in set(spikes_a) & set(spikes_b):
        (ta, ia), (tb, ib) = spikes_a[population], spikes_b[population]
        if ta.shape != tb.shape or not (np.array_equal(ta, tb) and np.array_equal(ia, ib)):
            problems.append(f"{what}: {population} spikes differ ({ta.size} expected, {tb.size})")
    for key in set(reports_a) | set(reports_b):
        if key not in reports_a or key not in reports_b:
            problems.append(f"{what}: report {key} in only one of the runs")
            continue
        (ta, ia, da), (tb, ib, db) = reports_a[key], reports_b[key]
        if not (np.array_equal(ta, tb) and np.array_equal(ia, ib)) or da.shape != db.shape \
                or not np.allclose(da, db, rtol=1e-5, atol=1e-6):
            problems.append(f"{what}: report {key} differs")
    return problems


def check_row(circuit_dir: Path, row: dict, name: str, work: Path,
              reference_cache: dict | None = None) -> list[str]:
    """Run a row (and its reference and restore); the invariants it breaks, as sentences."""
    config = row_config(circuit_dir, row, name)
    work = Path(work)
    cache = reference_cache if reference_cache is not None else {}
    key = features_key(row)
    problems: list[str] = []
    if key not in cache:
        reference = neurodamus(config, work / "reference")
        ref_problems = run_problems(reference, "reference (NEURON, 1 rank)")
        if ref_problems:
            return ref_problems
        spikes, reports, read_problems = read_outputs(reference.output, config)
        cache[key] = (spikes, reports)
        problems += read_problems
        if not any(times.size for times, _ in spikes.values()):
            problems.append("the reference run has no spikes: the row compares nothing")
    expected = cache[key]
    simulator = ("--simulator", row["solver"], "--lb-mode", row["lb_mode"])
    where = f"{row['solver']}, {row['ranks']} rank(s), {row['lb_mode']}"
    if row["save"] == "none":
        run = neurodamus(config, work / "run", *simulator, ranks=row["ranks"])
        problems += run_problems(run, where)
        if not problems:
            spikes, reports, read_problems = read_outputs(run.output, config)
            problems += read_problems + compare(expected, (spikes, reports), where)
        return problems
    t = float(row["save"])
    saved = work / "checkpoint"
    first = neurodamus(config, work / "first", *simulator, "--save", saved, "--save-time", t,
                       ranks=row["ranks"])
    problems += run_problems(first, f"{where}, saving at {t} ms")
    if problems:
        return problems
    other = 3 - row["ranks"]
    rest = neurodamus(config, work / "rest", *simulator, "--restore", saved, ranks=other)
    what = f"{where}, saved at {t} ms, restored on {other} rank(s)"
    problems += run_problems(rest, what)
    if not problems:
        spikes, reports, read_problems = read_outputs(rest.output, config)
        problems += read_problems + compare(expected, (spikes, reports), what)
    return problems


def check_refusal(circuit_dir: Path, refused: tuple, name: str, work: Path) -> list[str]:
    """A refused pair ends in exactly one `neurodamus: error:` line with its words."""
    config = refusal_config(circuit_dir, refused, name)
    a, level_a, b, level_b, _, words = refused
    row = {a: level_a, b: level_b}
    solver = ("--simulator", row.get("solver", "NEURON"))
    run = neurodamus(config, Path(work) / "refused", *solver, ranks=1)
    output = run.stdout + run.stderr
    problems = []
    if run.returncode != 1:
        problems.append(f"refused {a}={level_a} with {b}={level_b}: exit {run.returncode}, not 1")
    if output.count("neurodamus: error:") != 1 or words not in output:
        problems.append(f"refused {a}={level_a} with {b}={level_b}: not one error line "
                        f"saying '{words}'")
    if "Traceback" in output:
        problems.append(f"refused {a}={level_a} with {b}={level_b}: a traceback")
    return problems
