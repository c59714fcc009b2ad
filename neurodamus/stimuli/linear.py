"""`linear`: a current ramp from amp_start to amp_end (nA) between delay and delay + duration."""

from .registry import NUMBER, Stimulus, register


@register("linear")
class Linear(Stimulus):
    input_types = ("current_clamp",)
    required = {"amp_start": NUMBER}
    optional = {"amp_end": NUMBER, "represents_physical_electrode": bool}

    def waveform(self):
        """(times, amplitudes) of the injected current, linearly interpolated between samples."""
        s = self.settings
        start = float(s.parameters["amp_start"])
        end = float(s.parameters.get("amp_end", start))
        t0, t1 = s.delay, s.delay + s.duration
        return [t0, t0, t1, t1], [0.0, start, end, 0.0]

    def attach(self, cell, h):
        clamp = h.IClamp(cell.soma(0.5))
        clamp.dur = 1e9  # the played vector decides when the current flows
        times, amplitudes = self.waveform()
        tvec, avec = h.Vector(times), h.Vector(amplitudes)
        avec.play(clamp._ref_amp, tvec, 1)
        return [clamp, tvec, avec]
