"""Taking a report's frames during the run, frame k being the state at t_k = start + k * dt.

Under NEURON (FrameSampler): at each t_k a NEURON event calls back, and one PtrVector.gather
copies every recorded value at once.

Why not `Vector.record` on every value: it stores every time step (4 x more than a 0.1 ms
report at dt 0.025) and reading thousands of Vectors back costs a Python call each, about
8 us per Vector per flush; on the example circuit that more than doubled the run time.
Here the cost is one callback and one C loop per frame, independent of the time step.

Exactness: the event for t_k is delivered once the step that reaches t_k has completed
(voltages, gating states, membrane currents and assigned variables all updated), so the
values equal what `Vector.record` stores for t_k. One difference: a NetCon event delivered
at the start of the step from t_k (one due within half a step of t_k: edge delays put
arrivals anywhere in a step) reaches its synapse before this callback, so the variables its
NET_RECEIVE block sets (a synapse's STATE variables, NdTm's u, R, t_last) show the value just
after that event (a Vector records the one just before). Variables computed in BREAKPOINT
(a synapse's g and i) are not affected.

Under CoreNEURON (SteppedSampler), which runs no Python during a window: every value is
recorded at every step by `Vector.record(ref)` (CoreNEURON's direct mode fills those
Vectors; a recording at an interval or at given times it does not fill), in windows of a
bounded number of steps; after each window one hoc loop copies the samples of the frame
times, frame by frame, into a single Vector and empties the recordings, which keep their
memory for the next window (10,000 Vectors of 400 steps: ~30 us per Vector read one by one
from Python, ~2.6 us in the hoc loop). The window is the same on every rank (windows are
collective). The values are those a Vector records for t_k, so the file is NEURON's to
float32 rounding (the solvers' arithmetic may differ in the last bits of a double), but for
the variables a NET_RECEIVE block sets, at a frame with an event delivered at the start of
the step from t_k (see above): the value before that event under CoreNEURON, after it under
NEURON.
"""

import math
import re

from ..errors import NeurodamusError
from ..mechanisms import artificial_cell_names

FLOAT64_BYTES = 8
_TAKE_PROC = "nd_take_recorded_frames"


class Pointers:
    """The current value of every pointer, copied by one PtrVector.gather."""

    def __init__(self, h, refs):
        self.pointers = h.PtrVector(len(refs))
        for index, ref in enumerate(refs):
            self.pointers.pset(index, ref)
        self.gathered = h.Vector(len(refs))
        self.values = self.gathered.as_numpy()  # gather writes in place: one view for the run

    def gather(self):
        """The values now: a float64 numpy view, overwritten by the next gather."""
        self.pointers.gather(self.gathered)
        return self.values


class FrameSampler:
    """Calls `on_frame(values)` at t_k for k = 0 .. count-1; `values` is a float64 numpy
    view, valid during the call, holding the current value of each pointer."""

    def __init__(self, h, refs, start: float, dt: float, count: int, on_frame):
        self.h = h
        self.cvode = h.CVode()  # NEURON's single instance (stdrun's h.cvode)
        self.start, self.dt, self.count = start, dt, count
        self.on_frame = on_frame
        self.pointers = Pointers(h, refs)
        self.taken = 0

    def time(self, k: int) -> float:
        return self.start + k * self.dt

    def arm(self, first: int = 0):
        """Schedule frames `first`.. (a restored run resumes where the checkpoint stopped);
        call after finitialize (which clears NEURON's event queue)."""
        self.taken = first
        if self.taken >= self.count:
            return
        if self.time(first) <= self.h.t + 0.5 * self.h.dt:
            self._take(first)
        else:
            self._schedule(first)

    def window(self, h):
        """The longest stretch the solver may run without after_window: no limit."""
        return None

    def after_window(self, h):
        """Nothing to do: the frames were taken during the window."""

    def _schedule(self, k: int):
        self.cvode.event(self.time(k), lambda: self._take(k))

    def _take(self, k: int):
        if k < self.taken:  # already taken by catch_up
            return
        self.on_frame(self.pointers.gather())
        self.taken += 1
        if self.taken < self.count:
            self._schedule(self.taken)

    def catch_up(self):
        """Take now the frame due at the current time, whose event would fire only at the
        start of the next step (nothing changes in between): before a checkpoint, so that a
        restored run, whose fast membrane currents are not computed until it steps, starts
        with the next frame."""
        if self.taken < self.count and self.time(self.taken) <= self.h.t + 0.5 * self.h.dt:
            self._take(self.taken)


def _define_take_proc(h):
    """hoc: $o1 List of recording Vectors, $o2 the frames (frame-major), $3 .. $4 the samples
    to keep, every $5-th; $6 the samples each recording must hold. Copies, empties every
    recording (its memory stays for the next window) and returns how many held another
    count (which only a pointer CoreNEURON could not map gives)."""
    if hasattr(h, _TAKE_PROC):
        return
    h(f"""func {_TAKE_PROC}() {{ local i, n, wrong
    n = $o1.count()
    wrong = 0
    for i = 0, n - 1 {{
        if ($o1.o(i).size() != $6) {{
            wrong += 1
        }} else if ($4 >= $3) {{
            $o2.copy($o1.o(i), i, $3, $4, n, $5)
        }}
        $o1.o(i).resize(0)
    }}
    return wrong
}}""")


class SteppedSampler:
    """The FrameSampler's interface (arm, catch_up, taken, window, after_window) for a solver
    that runs no Python callbacks (CoreNEURON): see the module docstring.

    Made before finitialize (a recording made later is not passed to CoreNEURON); `plan`
    says, before `arm`, how many frames to take and how many steps a window holds."""

    def __init__(self, h, refs, start: float, dt: float, on_frame, name: str = ""):
        _define_take_proc(h)
        self.h = h
        self.name = name
        self.start, self.dt = start, dt
        self.count = 0
        self.window_steps = 1
        self.on_frame = on_frame
        self.refs = list(refs)
        self.recordings = h.List()
        for ref in self.refs:
            vector = h.Vector()
            vector.record(ref)
            self.recordings.append(vector)
        self.times = h.Vector()  # which steps the recordings hold
        self.times.record(h._ref_t)
        self.frames = h.Vector()  # one window's frames, [frame][value], filled by hoc
        self.pointers: Pointers | None = None  # frames due at the current time (arm, catch_up)
        self.taken = 0

    def stride(self, h) -> int:
        """Steps per frame (the report dt is a multiple of the simulation dt)."""
        return max(1, round(self.dt / h.dt))

    def plan(self, count: int, window_steps: int):
        self.count, self.window_steps = count, max(1, int(window_steps))

    def frames_per_window(self, h) -> int:
        """The most frames one window can bring."""
        return math.ceil(self.window_steps / self.stride(h)) + 1

    def time(self, k: int) -> float:
        return self.start + k * self.dt

    def arm(self, first: int = 0):
        """After finitialize (and a restore): forget what finitialize recorded, and take the
        frame due now, if any, from the current state."""
        self.taken = first
        self._empty()
        self._take_current()

    def window(self, h):
        return self.window_steps * h.dt

    def after_window(self, h):
        """Take the frames due in the window just run, from its recordings."""
        h_dt = self.h.dt
        times = self.times.as_numpy()
        samples = int(times.size)
        due = 0
        if samples and self.taken < self.count:  # frames k with t_k <= t + dt/2
            last = math.floor((self.h.t + 0.5 * h_dt - self.start) / self.dt + 1e-9)
            due = max(0, min(self.count - 1, last) - self.taken + 1)
        first_sample = 0
        stride = self.stride(self.h)
        if due:
            first_sample = round((self.time(self.taken) - times[0]) / h_dt)
            end = first_sample + (due - 1) * stride
            if (first_sample < 0 or end >= samples
                    or abs(times[first_sample] - self.time(self.taken)) > 0.5 * h_dt
                    or abs(times[end] - self.time(self.taken + due - 1)) > 0.5 * h_dt):
                raise RuntimeError(f"report '{self.name}': the steps recorded "
                                   f"({times[0]:g} .. {times[-1]:g} ms) do not hold the frames "
                                   f"due up to t = {self.h.t:g} ms")
        width = len(self.refs)
        self.frames.resize(due * width)
        last_sample = first_sample + (due - 1) * stride if due else -1
        wrong = getattr(self.h, _TAKE_PROC)(self.recordings, self.frames, first_sample,
                                            last_sample, stride, samples)
        self.times.resize(0)
        if wrong:
            raise NeurodamusError(f"report '{self.name}': CoreNEURON did not record "
                                  f"{int(wrong)} of its {width} values: use --simulator NEURON")
        if due:
            values = self.frames.as_numpy().reshape(due, width)
            for row in values:
                self.on_frame(row)
            self.taken += due
        self._take_current()  # only a frame due at a time the window did not record

    def catch_up(self):
        """Take every frame due by now (before a checkpoint, and at the end)."""
        if int(self.times.size()):
            self.after_window(self.h)
        else:
            self._take_current()

    def _empty(self):
        getattr(self.h, _TAKE_PROC)(self.recordings, self.frames, 0, -1, 1, -1)
        self.times.resize(0)

    def _take_current(self):
        if self.taken < self.count and self.time(self.taken) <= self.h.t + 0.5 * self.h.dt:
            if self.pointers is None:
                self.pointers = Pointers(self.h, self.refs)
            self.on_frame(self.pointers.gather())
            self.taken += 1


def coreneuron_window_steps(buffer_bytes: int, values: int, per_frame_bytes: int,
                            stride: int) -> int:
    """Steps per window under CoreNEURON such that the recordings (`values` + the time, 8
    bytes each per step), one window's frames in float64 (`values` per frame) and the
    owner's buffer of those frames (`per_frame_bytes` per frame) fit in `buffer_bytes`."""
    per_frame = FLOAT64_BYTES * values + per_frame_bytes
    per_step = FLOAT64_BYTES * (values + 1) + per_frame / stride
    fixed = 2 * per_frame  # a window of W steps brings up to ceil(W / stride) + 1 frames
    return max(1, int((buffer_bytes - fixed) // per_step))


# -- what CoreNEURON can record ----------------------------------------------------------

_CONTAINER = re.compile(r"\{cont=(\S+) (\S+) ")
_NODE_FIELDS = ("Node::field::Voltage", "Node::field::FastIMemSavRHS")


def coreneuron_cannot_record(h, refs) -> str | None:
    """The first of `refs` (NEURON pointers) that CoreNEURON cannot record, described
    ('diam (morphology)'), or None. CoreNEURON records the voltage, the fast membrane
    current, time and the range variables of the mechanisms it simulates; not a section's
    geometry (diam), the variables of artificial cells, or another plain pointer."""
    artificial = None
    seen = set()
    time_ref = repr(h._ref_t)
    for ref in refs:
        text = repr(ref)
        head = text.split(" row=", 1)[0]
        if head in seen:
            continue
        seen.add(head)
        if any(field in head for field in _NODE_FIELDS) or text == time_ref:
            continue
        match = _CONTAINER.search(text)
        if match is None:
            return f"a pointer that is not a range variable ({text})"
        mechanism, variable = match.groups()
        if mechanism == "morphology":
            return f"{variable} (a section's geometry)"
        if artificial is None:
            artificial = artificial_cell_names(h)
        if mechanism in artificial:
            return f"{mechanism}.{variable} (a variable of an artificial cell)"
    return None


def check_can_sample(h, name: str, start: float, resumed: bool = False):
    """Called on every rank before the first step (same answer everywhere, so no rank runs
    on alone): frames cannot start before the run does."""
    if start < h.t - 0.5 * h.dt and not resumed:  # restored, without the earlier frames
        raise NeurodamusError(f"report '{name}' starts at {start:g} ms but the run starts at "
                              f"{h.t:g} ms: give it a start_time from there")
