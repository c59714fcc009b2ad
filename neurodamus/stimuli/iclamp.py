"""`IClamp` (bmtk's current clamp): NEURON's IClamp with `amp` (nA) from `delay` for
`duration` ms, at the soma centre or the input's compartment set sites.

With `played_amps` (bmtk's CSV clamp, see dialects/bmtk_clamps.py) the amplitude is played
from that list every `played_dt` ms from t = 0, as bmtk plays it (Vector.play).

Unlike `linear`, whose steps are played from a vector, the clamp switches itself on and
off at its own events, as bmtk's does: the same onset to the step.
"""

from .registry import NUMBER, Stimulus, register
from .sources import site_segments


@register("IClamp")
class IClampInput(Stimulus):
    input_types = ("current_clamp",)
    required = {"amp": NUMBER}
    optional = {"played_amps": list, "played_dt": NUMBER}
    positive = ("played_dt",)

    def attach(self, cell, h, context):
        clamps = []
        for segment in site_segments(cell, context.sites):
            clamp = h.IClamp(segment)
            setattr(clamp, "del", self.settings.delay)  # a Python keyword
            clamp.dur = self.settings.duration
            clamp.amp = float(self.parameter("amp"))
            clamps.append(clamp)
            played = self.parameter("played_amps")
            if played:
                vector = h.Vector(played)
                vector.play(clamp._ref_amp, float(self.parameter("played_dt")))
                clamps.append(vector)
        return clamps
