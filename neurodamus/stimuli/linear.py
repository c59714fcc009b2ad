"""`linear`: a current ramp from amp_start to amp_end (nA) between delay and delay + duration."""

from .registry import NUMBER, Stimulus, register


@register("linear")
class Linear(Stimulus):
    input_types = ("current_clamp",)
    required = {"amp_start": NUMBER}
    optional = {"amp_end": NUMBER, "represents_physical_electrode": bool}

    def amplitudes(self) -> tuple[float, float]:
        start = float(self.settings.parameters["amp_start"])
        return start, float(self.settings.parameters.get("amp_end", start))

    def attach(self, cell, h, context):
        """IClamp switched on for [delay, delay + duration); its amplitude is played linearly
        from amp_start to amp_end over that window (a constant needs no played vector)."""
        clamp = h.IClamp(cell.soma(0.5))
        clamp.delay, clamp.dur = self.settings.delay, self.settings.duration
        start, end = self.amplitudes()
        clamp.amp = start
        if end == start:
            return [clamp]
        times = h.Vector([self.settings.delay, self.settings.delay + self.settings.duration])
        values = h.Vector([start, end])
        values.play(clamp._ref_amp, times, 1)
        return [clamp, times, values]
