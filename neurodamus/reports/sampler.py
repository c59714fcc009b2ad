"""Taking a report's frames during the run: at each frame time t_k = start + k * dt a
NEURON event calls back, and one PtrVector.gather copies every recorded value at once.

Why not `Vector.record` on every value: it stores every time step (4 x more than a 0.1 ms
report at dt 0.025) and reading thousands of Vectors back costs a Python call each, about
8 us per Vector per flush; on the example circuit that more than doubled the run time.
Here the cost is one callback and one C loop per frame, independent of the time step.

Exactness: the event for t_k is delivered once the step that reaches t_k has completed
(voltages, gating states, membrane currents and assigned variables all updated), so the
values equal what `Vector.record` stores for t_k. One difference: a NetCon event due at
exactly t_k reaches its synapse before this callback, so a synapse's STATE variables show
the value just after that event (a Vector records the one just before). Variables computed
in BREAKPOINT (a synapse's g and i) are not affected.

CoreNEURON runs no Python callbacks: reports need NEURON as the solver.
"""

from ..errors import NeurodamusError


class FrameSampler:
    """Calls `on_frame(values)` at t_k for k = 0 .. count-1; `values` is a float64 numpy
    view, valid during the call, holding the current value of each pointer."""

    def __init__(self, h, refs, start: float, dt: float, count: int, on_frame):
        self.h = h
        self.cvode = h.CVode()  # NEURON's single instance (stdrun's h.cvode)
        self.start, self.dt, self.count = start, dt, count
        self.on_frame = on_frame
        self.pointers = h.PtrVector(len(refs))
        for index, ref in enumerate(refs):
            self.pointers.pset(index, ref)
        self.gathered = h.Vector(len(refs))
        self.values = self.gathered.as_numpy()  # gather writes in place: one view for the run
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

    def _schedule(self, k: int):
        self.cvode.event(self.time(k), lambda: self._take(k))

    def _take(self, k: int):
        if k < self.taken:  # already taken by catch_up
            return
        self.pointers.gather(self.gathered)
        self.on_frame(self.values)
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


def check_can_sample(h, name: str, start: float, resumed: bool = False):
    """Called on every rank before the first step (same answer everywhere, so no rank runs
    on alone): frames need NEURON's events, and cannot start before the run does."""
    from neuron import coreneuron

    if getattr(coreneuron, "enable", False):
        raise NeurodamusError(f"report '{name}': frame reports sample through NEURON events, "
                              "which CoreNEURON does not run: use NEURON")
    if start < h.t - 0.5 * h.dt and not resumed:  # restored, without the earlier frames
        raise NeurodamusError(f"report '{name}' starts at {start:g} ms but the run starts at "
                              f"{h.t:g} ms: give it a start_time from there")
