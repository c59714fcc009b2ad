"""`SEClamp` as bmtk's BioNet makes it: NEURON's SEClamp at the soma centre with its three
levels, amp1..amp3 (mV) for dur1..dur3 (ms) from t = 0, and series resistance `rs`
(MOhm; NEURON's default, 1, when not given). After dur1 + dur2 + dur3 the clamp is off.

The bmtk dialect (dialects/bmtk_clamps.py) reads bmtk's forms (one value for the three
levels, one set for every cell or one per cell) into `amps` and `durations` of three
numbers per input. Unlike SONATA's `seclamp`, the levels are the clamp's own (no played
vector), as bmtk sets them.
"""

from .registry import NUMBER, Stimulus, register
from .sources import site_segments

LEVELS = 3


@register("SEClamp")
class BmtkSEClamp(Stimulus):
    input_types = ("voltage_clamp",)
    required = {"amps": list, "durations": list}
    optional = {"rs": NUMBER}
    positive = ("rs",)

    @classmethod
    def check(cls, parameters, input_type):
        for name in ("amps", "durations"):
            values = parameters[name]
            if len(values) != LEVELS or not all(
                    isinstance(v, (int, float)) and not isinstance(v, bool) for v in values):
                yield f"must be {LEVELS} numbers, got {values!r}", name
        durations = parameters["durations"]
        if all(isinstance(v, (int, float)) for v in durations) and any(d < 0 for d in durations):
            yield f"must not be negative, got {durations}", "durations"

    def attach(self, cell, h, context):
        clamps = []
        for segment in site_segments(cell, context.sites):
            clamp = h.SEClamp(segment)
            for level, (amp, duration) in enumerate(zip(self.parameter("amps"),
                                                        self.parameter("durations")), 1):
                setattr(clamp, f"amp{level}", float(amp))
                setattr(clamp, f"dur{level}", float(duration))
            if self.parameter("rs") is not None:
                clamp.rs = float(self.parameter("rs"))
            clamps.append(clamp)
        return clamps
