"""`xstim`: bmtk's extracellular stimulation through electrodes (point current sources in
an infinite homogeneous medium), played into `e_extracellular` of every segment.

The facts (bmtk 1.2, BioNet's XStimMod), reproduced here:
- `positions_file` (space separated): one row per electrode with `pos_x pos_y pos_z`
  (um), `rotation_x/y/z` (radians) and optionally `electrode_mesh_file` (relative to
  `mesh_files_dir`, else to the positions file's folder): the electrode's points
  (`x_pos y_pos z_pos`), rotated about the origin by Rx Ry Rz (counterclockwise), then moved
  so that their mean is the electrode's position; without a mesh file, one point there.
- transfer of electrode e to a segment: (rho / 4 pi) 0.01 * sum over the mesh points of 1/r,
  r the distance (um) to the segment's centre, rho = `resistance` (300 by default); a
  point closer than 10 um is an error.
- waveform: `{"shape": "dc" | "sin", "del", "dur", "amp", "freq" (Hz), "phase" (rad,
  pi by default), "offset"}`, zero outside del < t < del + dur (strict), or a CSV file
  (tab separated, `time`, `amplitude`) interpolated.
- the potential of a segment is sum over electrodes of amp(t) / mesh size * transfer
  * 1e6 (mV); bmtk sets it after each step for the next, so the step from t_k = k dt holds
  the value at t_k (0 in the first step). Every compartmental cell of the node set gets the
  extracellular mechanism in every section.

Segment centres are bmtk's: the point at each segment's x along the section's 3-D points,
turned by the node's rotation about the soma centre and moved to the node's position.

The values are set once per step by one event chain for the input (a Python callback and a
PtrVector scatter per cell, as bmtk does), so the input runs on NEURON, not CoreNEURON.
"""

import math
from pathlib import Path

import numpy as np

from ..errors import CircuitError, ConfigError
from .efield import local_position
from .registry import NUMBER, Stimulus, register

MIN_DISTANCE = 10.0  # um: bmtk refuses an electrode point closer to a segment
# in steps: each value's event comes just before the step it drives starts, so that
# NEURON's fixed step delivers it as the step before ends (measured against bmtk 1.2: an
# event just after the step's start acts one step later than bmtk's post-step update)
EVENT_BEFORE_STEP_START = 1e-3


def rotation(axis: int, angle: float) -> np.ndarray:
    """Counterclockwise rotation by `angle` about coordinate axis `axis`."""
    c, s = math.cos(angle), math.sin(angle)
    i, j = [(1, 2), (2, 0), (0, 1)][axis]
    out = np.eye(3)
    out[i, i], out[i, j], out[j, i], out[j, j] = c, -s, s, c
    return out


def _table(path: Path, separator: str | None, key: str) -> dict:
    if not path.is_file():
        raise ConfigError(f"{path} not found", key=key)
    rows = [line.split(separator) for line in path.read_text().splitlines() if line.strip()]
    if len(rows) < 2:
        raise ConfigError("needs a header and at least one row", file=path, key=key)
    header = [h.strip() for h in rows[0]]
    return {name: [row[i].strip() if i < len(row) else "" for row in rows[1:]]
            for i, name in enumerate(header)}


def _numbers(table: dict, names, path: Path, key: str) -> np.ndarray:
    try:
        return np.array([[float(v) for v in table[name]] for name in names])
    except KeyError as missing:
        raise ConfigError(f"no column {missing}", file=path, key=key) from None
    except ValueError as error:
        raise ConfigError(f"not a number: {error}", file=path, key=key) from None


def electrode_meshes(positions_file: Path, mesh_dir: Path | None, key: str) -> list[np.ndarray]:
    """Each electrode's points [n x 3] (um) in the circuit (see the module text)."""
    table = _table(positions_file, None, key)
    positions = _numbers(table, ("pos_x", "pos_y", "pos_z"), positions_file, key).T
    angles = _numbers(table, ("rotation_x", "rotation_y", "rotation_z"), positions_file, key).T
    meshes = []
    for index, (position, (ax, ay, az)) in enumerate(zip(positions, angles)):
        mesh = np.zeros((1, 3))
        if "electrode_mesh_file" in table:
            name = Path(table["electrode_mesh_file"][index])
            path = name if name.is_absolute() else (mesh_dir or positions_file.parent) / name
            mesh = _numbers(_table(path, None, key), ("x_pos", "y_pos", "z_pos"), path, key).T
        turned = mesh @ (rotation(0, ax) @ rotation(1, ay) @ rotation(2, az)).T
        meshes.append(turned + (position - turned.mean(axis=0)))
    return meshes


class XWaveform:
    """bmtk's stimulation waveform, evaluated at a time (ms)."""

    def __init__(self, spec, key: str):
        self.table = None
        if isinstance(spec, str):
            table = _table(Path(spec), "\t", f"{key}.waveform")
            self.table = _numbers(table, ("time", "amplitude"), Path(spec), f"{key}.waveform")
            return
        if not isinstance(spec, dict) or str(spec.get("shape", "")).lower() not in ("dc", "sin"):
            raise ConfigError(f"must be a CSV file or an object with shape 'dc' or 'sin', got "
                              f"{spec!r}", key=f"{key}.waveform")
        try:
            self.shape = spec["shape"].lower()
            self.amp, self.delay, self.duration = (float(spec[k]) for k in ("amp", "del", "dur"))
            if self.shape == "sin":
                self.freq = float(spec["freq"])
                self.phase = float(spec.get("phase", math.pi))
                self.offset = float(spec.get("offset", 0.0))
        except KeyError as missing:
            raise ConfigError("missing mandatory key of the waveform",
                              key=f"{key}.waveform.{missing.args[0]}") from None
        except (TypeError, ValueError) as error:
            raise ConfigError(f"not a number: {error}", key=f"{key}.waveform") from None

    def __call__(self, t: float) -> float:
        if self.table is not None:
            return float(np.interp(t, self.table[0], self.table[1]))
        if not self.delay < t < self.delay + self.duration:
            return 0.0
        if self.shape == "dc":
            return self.amp
        return self.amp * math.sin(2 * math.pi * self.freq / 1000.0 * t + self.phase) \
            + self.offset


def segment_centres(cell) -> tuple[list, np.ndarray]:
    """(segments in the cell's `all` order, their centres [n x 3] in the circuit, um)."""
    template = getattr(cell, "hoc", None)
    sections = list(template.all) if template is not None else list(cell.sections)
    segments = [segment for section in sections for segment in section]
    for section in sections:
        if section.n3d() == 0:
            raise CircuitError(f"section {section.name()} of node {cell.node_id} has no 3-D "
                               "points, which xstim needs", population=cell.population)
    local = np.array([local_position(segment) for segment in segments])
    rotation_matrix = np.asarray(getattr(cell, "rotation", np.eye(3)), float)
    position = np.asarray(getattr(cell, "position", np.zeros(3)), float)
    return segments, (local - local_position(cell.soma(0.5))) @ rotation_matrix.T + position


class _Driver:
    """Sets every attached cell's e_extracellular once per step (see the module text)."""

    def __init__(self, h, dt: float, tstop: float, waveform: XWaveform):
        self.h, self.dt = h, dt
        self.cells: list = []  # (PtrVector, segments, transfer [segments]) per cell
        # the amplitude each step k holds (0 before the first), and the steps where it
        # changes: only those get an event (outside the waveform's window nothing runs)
        steps = int(math.ceil(tstop / dt - 1e-9)) + 1
        self.amplitudes = np.array([0.0] + [waveform(dt * k) for k in range(1, steps)])
        self.changes = np.flatnonzero(np.diff(self.amplitudes) != 0) + 1
        self.next = 0
        self.handler = h.FInitializeHandler(1, self.start)

    def add(self, segments, transfer: np.ndarray):
        pointers = self.h.PtrVector(len(segments))
        entry = (pointers, segments, transfer)

        def point():
            for index, segment in enumerate(segments):
                pointers.pset(index, segment._ref_e_extracellular)
        point()
        if hasattr(pointers, "ptr_update_callback"):  # NEURON < 9 moves the values
            pointers.ptr_update_callback(point)
        self.cells.append(entry)

    def start(self):
        self.next = 0
        self._set(0.0)
        self._schedule()

    def _schedule(self):
        if self.next < self.changes.size:
            step = int(self.changes[self.next])
            self.h.CVode().event((step - EVENT_BEFORE_STEP_START) * self.dt, self.tick)

    def tick(self):
        self._set(float(self.amplitudes[self.changes[self.next]]))
        self.next += 1
        self._schedule()

    def _set(self, amplitude: float):
        for pointers, _, transfer in self.cells:
            pointers.scatter(self.h.Vector(transfer * amplitude))


@register("xstim")
class XStim(Stimulus):
    input_types = ("lfp", "extracellular_stimulation")
    required = {"positions_file": str, "waveform": (dict, str)}
    optional = {"mesh_files_dir": str, "resistance": NUMBER}
    defaults = {"resistance": 300.0}
    positive = ("resistance",)

    def attach(self, cell, h, context):
        key = f"inputs.{self.settings.name}"
        if getattr(self, "_driver", None) is None:
            mesh_dir = self.parameter("mesh_files_dir")
            self._meshes = electrode_meshes(Path(self.parameter("positions_file")),
                                            Path(mesh_dir) if mesh_dir else None,
                                            f"{key}.positions_file")
            self._driver = _Driver(h, context.dt, context.tstop,
                                   XWaveform(self.parameter("waveform"), key))
        segments, centres = segment_centres(cell)
        for section in {id(s.sec): s.sec for s in segments}.values():
            if not section.has_membrane("extracellular"):
                section.insert("extracellular")
        rho = float(self.parameter("resistance"))
        transfer = np.zeros(len(segments))
        for index, mesh in enumerate(self._meshes):
            distances = np.linalg.norm(centres[None, :, :] - mesh[:, None, :], axis=2)
            if distances.min() < MIN_DISTANCE:
                raise CircuitError(f"electrode {index} of {key} is {distances.min():.3g} um "
                                   f"from a segment of node {cell.node_id} (bmtk refuses "
                                   f"< {MIN_DISTANCE:g} um)", population=cell.population)
            # each electrode carries amp / its mesh size at each of its points
            transfer += (1.0 / distances).sum(axis=0) / len(mesh)
        transfer *= rho / (4 * math.pi) * 0.01 * 1e6
        self._driver.add(segments, transfer)
        return [self._driver] if len(self._driver.cells) == 1 else []
