"""`spatially_uniform_e_field`: an extracellular potential whose gradient is a spatially
uniform field E(t) = sum over `fields` of (Ex, Ey, Ez) cos(2 pi frequency (t - delay) + phase),
V/m, played into `e_extracellular` of NEURON's extracellular mechanism at every segment.

SONATA defines E as the gradient of the potential (without the minus sign of physics), so
the potential at a segment at global position r (um) is E(t) . r (um V/m = 1e-3 mV), as
the reference simulator computes it. r is where the reference places the segment
(global_positions: the start of the segment along the section's 3-D points, every soma
segment at the soma's centre, the axon stubs by STUB_SPANS), in the circuit: the morphology
turned by the node's orientation, its soma centre moved to the node's x, y, z. With this
placement the reference's own e-field test (usecase3, static and 100 Hz fields) gives its
spikes exactly.

The field lasts ramp_up_time + duration + ramp_down_time from delay; its amplitude grows
linearly from 0 during the ramp up and falls linearly to 0 during the ramp down. Several
field inputs on one cell add up.

Time grid, as the reference simulator's EFieldIntegrator has it: the step from t to t + dt
uses the field at its middle, t + dt / 2, and e_extracellular holds that value until the
next step (recorded at t + dt, it shows the field at t + dt / 2; 0 at t = 0). So the
potential is played as steps: at each step's start (an event just after it, delivered as
the step begins) the value at the step's middle; only the steps where the value changes
(a static field: its ramps) carry a point.

With the extracellular mechanism in a model, NEURON solves all the cells of a rank in one
sparse matrix, so a cell's voltage depends on its rank's other cells at round-off level:
runs on different rank counts agree to ~1e-11 mV, not bit for bit.
"""

import math

import numpy as np

from .. import libm
from ..errors import CircuitError, ConfigError
from ..values import is_finite_number
from .registry import NUMBER, Stimulus, register
from .waveforms import Waveform

FIELD_KEYS = {"Ex": True, "Ey": True, "Ez": True, "frequency": False, "phase": False}
MV_PER_UM_V_PER_M = 1e-3
EVENT_AFTER_STEP_START = 1e-3  # in steps: each value's event, just after its step's start


def step_values(course: Waveform, dt: float) -> tuple[np.ndarray, np.ndarray]:
    """(event times, values) playing `course` on the time grid: for each step k from t_k =
    k dt the value at t_k + dt / 2, set just after t_k; a value equal to the one before (or,
    first, to 0) is left out."""
    first = math.floor(course.times[0] / dt + 1e-9)
    last = math.ceil(course.times[-1] / dt + 1e-9) + 1
    starts = dt * np.arange(first, last + 1)
    values = course.right_limits(starts + dt / 2)
    changed = np.diff(np.concatenate([[0.0], values])) != 0
    return starts[changed] + EVENT_AFTER_STEP_START * dt, values[changed]


@register("spatially_uniform_e_field")
class SpatiallyUniformEField(Stimulus):
    input_types = ("extracellular_stimulation",)
    required = {"fields": list}
    optional = {"ramp_up_time": NUMBER, "ramp_down_time": NUMBER}
    defaults = {"ramp_up_time": 0.0, "ramp_down_time": 0.0}
    non_negative = ("ramp_up_time", "ramp_down_time")

    @classmethod
    def check(cls, parameters, input_type):
        if "fields" not in parameters:
            return
        fields = parameters["fields"]
        if not fields:
            yield "must list at least one field", "fields"
        for index, field in enumerate(fields):
            yield from _check_field(field, f"fields[{index}]")

    def field_course(self, dt: float) -> tuple[np.ndarray, np.ndarray]:
        """(times, E) with E[i] the field (V/m, 3 components) at times[i]; a repeated time is
        the jump at a window edge that has no ramp."""
        start = self.settings.delay
        ramp_up = float(self.parameter("ramp_up_time"))
        ramp_down = float(self.parameter("ramp_down_time"))
        end = start + ramp_up + self.settings.duration + ramp_down
        fields = self.parameter("fields")
        corners = [start, start + ramp_up, end - ramp_down, end]
        if all(field.get("frequency", 0) == 0 for field in fields):
            times = np.unique(corners)
        else:
            # an oscillating field at the steps' middles, where step_values reads it
            middles = dt * (np.arange(math.floor(start / dt), math.ceil(end / dt) + 1) + 0.5)
            times = np.union1d(middles[(middles > start) & (middles < end)], corners)
        envelope = np.ones(times.size)
        if ramp_up > 0:
            envelope = np.minimum(envelope, (times - start) / ramp_up)
        if ramp_down > 0:
            envelope = np.minimum(envelope, (end - times) / ramp_down)
        field = np.zeros((times.size, 3))
        for spec in fields:
            angular = 2 * math.pi * spec.get("frequency", 0) / 1000.0  # rad / ms
            angle = angular * (times - start) + spec.get("phase", 0)
            field += np.outer(libm.cos(angle), [spec["Ex"], spec["Ey"], spec["Ez"]])
        field *= np.maximum(envelope, 0.0)[:, None]
        zero = np.zeros((1, 3))
        return (np.concatenate([[start], times, [end]]),
                np.concatenate([zero, field, zero]))

    def attach(self, cell, h, context):
        self._check_sampling(context.dt)
        segments = _segments(cell, context.sites)
        positions = global_positions(cell, segments)
        if getattr(self, "_course", None) is None:
            self._course = self.field_course(context.dt)
        times, field = self._course
        potentials = ExtracellularPotentials.of(cell, h)
        for segment, position in zip(segments, positions):
            potentials.add(segment, Waveform(times, MV_PER_UM_V_PER_M * field @ position),
                           context.dt)
        return [] if potentials.kept else potentials.keep()

    def _check_sampling(self, dt):
        for index, spec in enumerate(self.parameter("fields")):
            nyquist = 1000.0 / (2 * dt)
            if spec.get("frequency", 0) >= nyquist:
                raise ConfigError(f"frequency {spec['frequency']} Hz is not below the Nyquist "
                                  f"frequency {nyquist:g} Hz of the simulation's dt {dt} ms",
                                  key=f"inputs.{self.settings.name}.fields[{index}].frequency")


def _check_field(field, key):
    if not isinstance(field, dict):
        yield f"must be an object with Ex, Ey, Ez, got {field!r}", key
        return
    for name in field:
        if name not in FIELD_KEYS:
            yield "unknown key of a field (Ex, Ey, Ez, frequency, phase)", f"{key}.{name}"
    for name, mandatory in FIELD_KEYS.items():
        value = field.get(name)
        if value is None:
            if mandatory:
                yield "missing mandatory key of a field", f"{key}.{name}"
        elif not is_finite_number(value):
            yield f"must be a number, got {value!r}", f"{key}.{name}"
        elif name == "frequency" and value < 0:
            yield f"must not be negative, got {value}", f"{key}.{name}"
        elif name == "phase" and not -math.pi / 2 < value <= math.pi / 2:
            yield f"must be in (-pi/2, pi/2], got {value}", f"{key}.{name}"


def _segments(cell, sites):
    """Every segment of the cell for a node_set target, else the compartment set's ones."""
    if sites is None:
        template = getattr(cell, "hoc", None)
        sections = list(template.all) if template is not None else cell.sections
        return [segment for section in sections for segment in section]
    return [cell.section(section_id)(offset) for section_id, offset in sites]


# Sections an e-model adds without 3-D points (the axon stubs that replace the morphology's
# axon, the myelin after them), placed as the reference simulator places them: straight
# down the local y axis from the soma centre, axon[i] over [30 i, 30 (i + 1)] um, myelin[0]
# over [60, 1060] um; the segment at x of its section is x of the way along.
STUB_SPANS = {"axon": ((0.0, 30.0), (30.0, 60.0)), "myelin": ((60.0, 1060.0),)}


def stub_position(section, x: float, soma_centre) -> np.ndarray | None:
    """Local position of a segment of a section without 3-D points (STUB_SPANS), or None."""
    name = section.name().rsplit(".", 1)[-1]
    kind, _, index = name.partition("[")
    spans = STUB_SPANS.get(kind)
    if spans is None or not index.rstrip("]").isdigit() or int(index.rstrip("]")) >= len(spans):
        return None
    near, far = spans[int(index.rstrip("]"))]
    return np.asarray(soma_centre, float) - np.array([0.0, near + x * (far - near), 0.0])


def local_position(segment, soma_centre=None) -> np.ndarray:
    """Centre of a segment in the morphology's own coordinates (um), along its 3-D points
    (an axon or myelin stub without any: STUB_SPANS, from `soma_centre`)."""
    section = segment.sec
    count = section.n3d()
    if count == 0:
        stub = None if soma_centre is None else stub_position(section, segment.x, soma_centre)
        if stub is not None:
            return stub
        raise CircuitError(f"section {section.name()} has no 3-D points, which the "
                           "extracellular field needs")
    arc = np.array([section.arc3d(i) for i in range(count)])
    points = np.array([[section.x3d(i), section.y3d(i), section.z3d(i)] for i in range(count)])
    where = segment.x * arc[-1]
    return np.array([np.interp(where, arc, points[:, axis]) for axis in range(3)])


def _segment_ends(section) -> np.ndarray:
    """The nseg + 1 ends of a section's segments along its 3-D points (local, um)."""
    count = section.n3d()
    arc = np.array([section.arc3d(i) for i in range(count)]) / section.L
    points = np.array([[section.x3d(i), section.y3d(i), section.z3d(i)] for i in range(count)])
    ends = np.linspace(0.0, 1.0, int(section.nseg) + 1)
    return np.column_stack([np.interp(ends, arc, points[:, axis]) for axis in range(3)])


def field_position(segment, soma_centre) -> np.ndarray:
    """Where the reference simulator places a segment for the field (local, um): the start
    of the segment (its end towards x = 0); a stub without 3-D points by STUB_SPANS."""
    section = segment.sec
    if section.n3d() == 0:
        return local_position(segment, soma_centre)
    ends = _segment_ends(section)
    return ends[min(int(segment.x * int(section.nseg)), int(section.nseg) - 1)]


def global_positions(cell, segments) -> np.ndarray:
    """Segment positions in the circuit as the reference places them (field_position; every
    soma segment at the soma's centre, the mean of its segments' ends), rotated by the
    node's orientation about the soma centre, which goes to the node's position."""
    rotation = np.asarray(getattr(cell, "rotation", np.eye(3)), float)
    position = np.asarray(getattr(cell, "position", np.zeros(3)), float)
    soma = cell.soma
    soma_centre = (_segment_ends(soma).mean(axis=0) if soma.n3d()
                   else local_position(soma(0.5)))
    local = np.array([soma_centre if segment.sec == soma else
                      field_position(segment, soma_centre)
                      for segment in segments]).reshape(-1, 3)
    return (local - soma_centre) @ rotation.T + position


class ExtracellularPotentials:
    """The potential waveforms played into one cell's e_extracellular, summed over inputs."""

    def __init__(self, h):
        self.h = h
        self.by_segment = {}  # (section name, x) -> (Waveform, [times, values] hoc Vectors)
        self.kept = False

    @classmethod
    def of(cls, cell, h) -> "ExtracellularPotentials":
        """The cell's existing one (from an earlier input) or a new one."""
        for item in cell.keep_alive:
            if isinstance(item, cls):
                return item
        return cls(h)

    def keep(self) -> list:
        self.kept = True
        return [self]

    def add(self, segment, potential: Waveform, dt: float):
        section = segment.sec
        if not section.has_membrane("extracellular"):
            section.insert("extracellular")
        key = (section.name(), segment.x)
        if key in self.by_segment:
            previous, (_, old_values) = self.by_segment[key]
            old_values.play_remove()
            potential = previous + potential
        times, values = (self.h.Vector(a) for a in step_values(potential, dt))
        values.play(segment._ref_e_extracellular, times, 0)
        self.by_segment[key] = (potential, (times, values))
