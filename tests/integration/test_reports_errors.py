"""Report problems under `mpiexec -n 2`: one message naming the report and key, exit 1 on
every rank before the run, and no report file (complete or partial) left behind."""
import json

import pytest
from conftest import run_neurodamus

pytestmark = pytest.mark.mpi  # each test runs neurodamus under mpiexec, or reads such a run


def run_expecting_error(config):
    result = run_neurodamus([config, "--no-progress"], ranks=2, timeout=120)
    assert result.returncode == 1, result.stdout + result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("neurodamus: error:")]
    assert len(errors) == 1 and "Traceback" not in result.stderr, result.stderr
    assert "Running to" not in result.stdout  # stopped before the run
    output = config.parent / "output"
    assert not (output.exists() and [p.name for p in output.iterdir() if "voltage" in p.name])
    return result.stderr[result.stderr.index("neurodamus: error:"):]


def with_report(config, **values):
    raw = json.loads(config.read_text())
    raw["reports"] = {"voltage": {"type": "compartment", "variable_name": "v", "start_time": 0,
                                  "end_time": 20, "dt": 0.1, "sections": "all", **values}}
    config.write_text(json.dumps(raw))
    return config


def test_unknown_variable_stops_in_the_config_phase(small_circuit):
    config = with_report(small_circuit(tstop=20.0), variable_name="voltage_hh")
    message = run_expecting_error(config)
    assert str(config) in message
    assert "key 'reports.voltage.variable_name': unknown variable 'voltage_hh'" in message


def test_variable_absent_from_selected_sections_stops_before_the_run(small_circuit):
    """m_hh exists (hh is built in) but not in the passive dendrites that `all` selects: found
    when the report is set up, still before the first step."""
    message = run_expecting_error(with_report(small_circuit(tstop=20.0), variable_name="m_hh"))
    assert "key 'reports.voltage.variable_name': variable 'm_hh' does not exist in" in message
