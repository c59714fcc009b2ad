"""`neurodamus plot`: a small network with a compartment report run once on 2 ranks, then
drawn; the PNGs are read back (size, and pixels in the populations' colours), the traces are
checked against the report itself, and bad inputs give one error line."""

import json
import subprocess
import sys

import libsonata
import numpy as np
import pytest
from conftest import assert_ok, run_neurodamus

from neurodamus.plots.outputs import (
    PopulationSpikes,
    read_soma_traces,
    read_spikes,
    simulated_cells,
)
from neurodamus.plots.rates import population_rates, time_bins
from neurodamus.testing.circuit_builder import (
    CircuitSpec,
    EdgeSpec,
    PopulationSpec,
    build_circuit,
    write_simulation_config,
)

TSTOP = 100.0
BLUE, ORANGE = (0.122, 0.467, 0.706), (1.0, 0.498, 0.055)  # tab10: first, second population


@pytest.fixture(scope="module")
def output(tmp_path_factory):
    """A run whose spikes file is not out.h5 (found through run_summary.json) and with a
    report of every section (so its first element per node is the soma)."""
    directory = tmp_path_factory.mktemp("plots")
    spec = CircuitSpec(
        populations=[PopulationSpec("exc", 5, "exc"), PopulationSpec("inh", 3, "inh")],
        edges=[EdgeSpec("exc", "exc", 3, 1.0), EdgeSpec("exc", "inh", 3, 1.0),
               EdgeSpec("inh", "exc", 2, 1.0)], seed=5)
    circuit = build_circuit(directory, spec)
    inputs = {"step": {"module": "linear", "input_type": "current_clamp", "node_set": "exc",
                       "amp_start": 0.4, "delay": 5.0, "duration": TSTOP},
              "drive": {"module": "linear", "input_type": "current_clamp", "node_set": "inh",
                        "amp_start": 0.1, "delay": 5.0, "duration": TSTOP}}
    reports = {"all_v": {"type": "compartment", "variable_name": "v", "sections": "all",
                         "start_time": 0.0, "end_time": TSTOP, "dt": 0.5}}
    config = write_simulation_config(directory, circuit, tstop=TSTOP, inputs=inputs,
                                     node_set="All", reports=reports)
    raw = json.loads(config.read_text())
    raw["output"]["spikes_file"] = "spikes.h5"
    config.write_text(json.dumps(raw))
    out = directory / "output"
    assert_ok(run_neurodamus([config, "--output-path", out, "--no-progress"], ranks=2))
    return out


def plot(*args, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "neurodamus", "plot", *map(str, args)],
                          capture_output=True, text=True, timeout=120, **kwargs)


def pixels_near(image, colour, tolerance=0.06) -> int:
    return int((np.abs(image[..., :3] - np.asarray(colour)).max(axis=-1) < tolerance).sum())


@pytest.mark.mpi
def test_plot_writes_raster_rates_and_traces(output, tmp_path):
    import matplotlib.image

    result = plot(output, "--report", "all_v", "--max-traces", "3", "--out", tmp_path / "png")
    assert_ok(result)
    printed = result.stdout.split()
    names = ["raster.png", "rates.png", "traces_all_v.png"]
    assert printed == [str(tmp_path / "png" / name) for name in names]
    for name in names:
        image = matplotlib.image.imread(tmp_path / "png" / name)
        assert image.shape[1] == 1000 and image.shape[0] >= 400, (name, image.shape)
        assert image[..., :3].std() > 0.05, name  # not a blank canvas
        assert pixels_near(image, BLUE) > 100, name  # the first population's data were drawn
    for name in ("raster.png", "rates.png"):  # the second population too
        assert pixels_near(matplotlib.image.imread(tmp_path / "png" / name), ORANGE) > 50, name


@pytest.mark.mpi
def test_default_out_is_plots_in_the_output_dir(output):
    assert_ok(plot(output))
    assert sorted(p.name for p in (output / "plots").iterdir()) == ["raster.png", "rates.png"]


@pytest.mark.mpi
def test_spikes_found_through_run_summary_with_simulated_cell_counts(output):
    found = {p.name: p for p in read_spikes(output)}
    reader = libsonata.SpikeReader(str(output / "spikes.h5"))
    assert sorted(found) == sorted(reader.get_population_names()) == ["exc", "inh"]
    for name, population in found.items():
        expected = reader[name].get_dict()
        np.testing.assert_array_equal(population.times, expected["timestamps"])
        assert population.times.size > 5
    assert simulated_cells(output) == {"exc": 5, "inh": 3}
    assert (found["exc"].cells, found["inh"].cells) == (5, 3)


@pytest.mark.mpi
def test_traces_are_the_first_element_of_the_first_nodes(output):
    traces = {t.population: t for t in read_soma_traces(output, "all_v", max_traces=2)}
    reader = libsonata.ElementReportReader(str(output / "all_v.h5"))
    assert sorted(traces) == ["exc", "inh"]
    for name, found in traces.items():
        frames = reader[name].get()
        ids = np.asarray(frames.ids)
        data = np.asarray(frames.data)
        assert found.node_ids.tolist() == [0, 1]
        assert found.units == "mV" and found.values.shape == (data.shape[0], 2)
        assert (ids[:, 0] == 0).sum() > 1  # several elements per node: the choice matters
        for column, node in enumerate(found.node_ids):
            first = np.flatnonzero(ids[:, 0] == node)[0]
            np.testing.assert_array_equal(found.values[:, column], data[:, first])
        assert found.values.max() > 0 > found.values.min()  # the soma spiked


@pytest.mark.mpi
def test_unknown_report_names_the_reports_there(output):
    result = plot(output, "--report", "soma_v")
    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        (f"neurodamus: error: report 'soma_v': no file {output / 'soma_v.h5'} "
         "(reports here: all_v)")]


def test_missing_directory_and_spikes_are_one_line_errors(tmp_path):
    result = plot(tmp_path / "nowhere")
    assert result.returncode == 1
    assert result.stderr == f"neurodamus: error: output directory {tmp_path / 'nowhere'} not found\n"
    result = plot(tmp_path)
    assert result.returncode == 1 and result.stderr.count("\n") == 1
    assert result.stderr.startswith(f"neurodamus: error: no spikes file in {tmp_path}")


def test_without_matplotlib_says_what_to_install(tmp_path):
    code = ("import sys; sys.modules['matplotlib'] = None; from neurodamus.cli import main; "
            f"sys.exit(main(['plot', {str(tmp_path)!r}]))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.returncode == 1
    assert result.stderr == ("neurodamus: error: neurodamus plot needs matplotlib: "
                             "pip install neurodamus[plot]\n")


def test_rates_count_every_spike_once_per_simulated_cell():
    times = np.array([1.0, 2.0, 9.9, 10.0, 25.0, 29.5])
    population = PopulationSpikes("exc", times, np.zeros(times.size, np.int64), cells=4)
    edges = time_bins([population], bin_ms=10.0)
    assert edges.tolist() == [0.0, 10.0, 20.0, 30.0]
    rates = population_rates(population, edges)
    np.testing.assert_allclose(rates, [3 / 4 / 0.01, 1 / 4 / 0.01, 2 / 4 / 0.01])
