"""Each morphology read once per rank (cells/import3d_cache.py): the cells built by replaying
what NEURON's Import3d did for a file equal, bit for bit, those the plain template builds with
NEURON's own Import3d for every cell (NEURODAMUS_PLAIN_IMPORT3D=1): every section's length,
nseg and every segment's diameter, area, voltage and range variable of every mechanism after
initialisation, as --dump-cell-state writes them (JSON numbers: exact doubles)."""

import json
import os

import pytest
from conftest import assert_ok, run_neurodamus

from neurodamus.cells.import3d_cache import DISABLE_ENV
from neurodamus.testing.bbp_style import mechanism_dir
from neurodamus.testing.bbp_style.detailed import build_detailed_circuit
from neurodamus.testing.circuit_builder import write_simulation_config

pytestmark = pytest.mark.mpi

CELLS = 4  # two morphologies, two cells each: the second cell of each is replayed


def _states(config, out, plain: bool) -> tuple[dict, str]:
    previous = os.environ.pop(DISABLE_ENV, None)
    if plain:
        os.environ[DISABLE_ENV] = "1"
    try:
        gids = ",".join(str(g) for g in range(CELLS))
        result = run_neurodamus([config, "--mechanisms", mechanism_dir(), "--output-path", out,
                                 "--no-progress", "--dump-cell-state", gids, "--verbose"])
    finally:
        os.environ.pop(DISABLE_ENV, None)
        if previous is not None:
            os.environ[DISABLE_ENV] = previous
    assert_ok(result)
    return {path.name: json.loads(path.read_text())
            for path in sorted((out / "cell_state").glob("*_t0.json"))}, \
        result.stdout + result.stderr


def test_replayed_cells_equal_the_plain_templates(tmp_path):
    circuit = build_detailed_circuit(tmp_path / "circuit", n_cells=CELLS, n_morphologies=2,
                                     synapses_per_cell=4, depth=3)
    config = write_simulation_config(tmp_path, circuit, tstop=1.0, node_set="All")
    plain, plain_log = _states(config, tmp_path / "plain", plain=True)
    fast, fast_log = _states(config, tmp_path / "fast", plain=False)
    assert "read by Import3d 0 times, replayed 0 times" in plain_log  # NEURON's classes
    assert "read by Import3d 2 times, replayed 2 times" in fast_log
    assert len(plain) == CELLS and plain.keys() == fast.keys()
    for name in plain:
        sections = plain[name]["sections"]
        assert len(sections) > 40 and any(s["nseg"] > 1 for s in sections)
        assert fast[name] == plain[name], name
