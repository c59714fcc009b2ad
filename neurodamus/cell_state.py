"""--dump-cell-state GIDS: each listed cell's state, after initialisation and at the end of the
run, as JSON (`cell_state/<gid>_t<ms>.json` in the output directory), to compare one run
with another (this driver against the reference, one rank count against another) section by
section.

The rank that owns a cell writes its file. A state holds, per section (by SONATA section
id): its name, length and nseg; per segment: x, v, diam, area and every range variable of
every mechanism there (parameters, states and currents, as NEURON lists them); and the
cell's point processes (name, section id, x). NEURON's own `pc.prcellstate` writes into the
working directory in a format keyed by internal indices, hence our own.
"""

import json
import logging
import math
from pathlib import Path

import numpy as np

from .errors import NeurodamusError

log = logging.getLogger("neurodamus")
DIRECTORY = "cell_state"


def check_gids(gids, target_gids):
    missing = sorted(set(gids) - set(np.asarray(target_gids).tolist()))
    if missing:
        shown = ", ".join(map(str, missing[:10])) + (" ..." if len(missing) > 10 else "")
        raise NeurodamusError(f"--dump-cell-state: gid(s) {shown} not simulated (the node set's "
                              "gids are population offset + node id, see populations_offset.dat)")


def _value(segment, name):
    try:
        value = float(getattr(segment, name))
    except (TypeError, ValueError, AttributeError, NameError, RuntimeError):
        return None  # an array variable, or one that cannot be read as a number
    return value if math.isfinite(value) else str(value)


def segment_state(segment) -> dict:
    mechanisms = {}
    for mechanism in segment:
        values = {rv.name(): _value(segment, rv.name()) for rv in mechanism}
        mechanisms[mechanism.name()] = {k: v for k, v in values.items() if v is not None}
    return {"x": float(segment.x), "v": float(segment.v), "diam": float(segment.diam),
            "area": float(segment.area()), "mechanisms": mechanisms}


def cell_state(cell, t: float) -> dict:
    sections, point_processes = [], []
    section_ids = cell.section_map.section_ids if cell.sections else []
    for section_id, section in zip(section_ids, cell.sections):
        segments = list(section)
        sections.append({"id": int(section_id), "name": section.name(), "L": float(section.L),
                         "nseg": int(section.nseg),
                         "segments": [segment_state(segment) for segment in segments]})
        for segment in segments:
            for point_process in segment.point_processes():
                point_processes.append({"name": point_process.hname(), "section": int(section_id),
                                        "x": float(segment.x)})
    return {"gid": int(cell.gid), "population": cell.population, "node_id": int(cell.node_id),
            "t": float(t), "sections": sections, "point_processes": point_processes}


class CellStateDump:
    """A run hook (run.RunHook): writes the listed local cells' states at the start and the
    end of the run."""

    def __init__(self, gids, cells, output_dir: Path):
        wanted = set(gids)
        self.cells = [cell for cell in cells if cell.gid in wanted]
        self.directory = Path(output_dir) / DIRECTORY

    def write(self, t: float) -> list[Path]:
        written = []
        if self.cells:
            self.directory.mkdir(parents=True, exist_ok=True)
        for cell in self.cells:
            path = self.directory / f"{cell.gid}_t{t:g}.json"
            path.write_text(json.dumps(cell_state(cell, t), indent=1))
            written.append(path)
            log.debug("cell state of gid %d at t = %g ms: %s", cell.gid, t, path)
        return written

    def before_run(self, h):
        self.write(float(h.t))

    def after_run(self, h):
        self.write(float(h.t))
