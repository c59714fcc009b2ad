"""The bi-exponential pulse of the shot-noise modules and what Campbell's theorem makes of it.

h(t) = (exp(-t / decay) - exp(-t / rise)) / peak for t >= 0, scaled so that its maximum is
1. Shot noise with Poisson events at rate r and independent amplitudes A has cumulants
k_n = r E[A^n] I_n, with I_n the integral of h^n (Campbell's theorem and its
generalisation by Rice, 1944): mean r E[A] I_1, variance r E[A^2] I_2, third cumulant
r E[A^3] I_3.

For gamma distributed amplitudes of shape k, the skewness k_3 / k_2^1.5 is
(k + 2) / (k + 1) * c with c = sigma I_1 I_3 / (mean I_2^2): for a given mean and standard
deviation it lies between c (k -> infinity, fixed amplitudes) and 2 c (k -> 0).
`relative_skew` s places it there, skewness = (1 + s) c, hence k = 1/s - 1, and

    amp_mean = (1 - s) sigma^2 I_1 / (mean I_2),  amp_var = amp_mean^2 s / (1 - s),
    rate = mean / (amp_mean I_1).
"""

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class BiexponentialKernel:
    rise_time: float  # ms, 0 < rise_time < decay_time
    decay_time: float  # ms

    @property
    def peak_time(self) -> float:
        rise, decay = self.rise_time, self.decay_time
        return rise * decay * math.log(decay / rise) / (decay - rise)

    @property
    def peak(self) -> float:
        """Maximum of exp(-t / decay) - exp(-t / rise), which h divides by."""
        t = self.peak_time
        return math.exp(-t / self.decay_time) - math.exp(-t / self.rise_time)

    def integral(self, power: int) -> float:
        """I_power = integral over t >= 0 of h(t)^power (ms), for power 1, 2 or 3."""
        rates = (1.0 / self.decay_time, 1.0 / self.rise_time)
        total = 0.0
        # Binomial expansion of (exp(-a t) - exp(-b t))^power, each term integrating to 1/rate.
        for j in range(power + 1):
            rate = (power - j) * rates[0] + j * rates[1]
            total += math.comb(power, j) * (-1) ** j / rate
        return total / self.peak ** power


@dataclass(frozen=True)
class ShotNoiseParameters:
    rate: float  # Hz
    amp_mean: float  # nA or uS
    amp_var: float  # nA^2 or uS^2


def campbell_moments(kernel: BiexponentialKernel, p: ShotNoiseParameters) -> tuple[float, float]:
    """(mean, variance) of shot noise with gamma amplitudes."""
    rate = p.rate / 1000.0
    second_moment = p.amp_var + p.amp_mean ** 2
    return rate * p.amp_mean * kernel.integral(1), rate * second_moment * kernel.integral(2)


def parameters_from_moments(kernel: BiexponentialKernel, mean: float, sigma: float,
                            relative_skew: float) -> ShotNoiseParameters:
    """Rate and amplitude distribution giving `mean` and standard deviation `sigma`
    (mean != 0, sigma > 0, 0 <= relative_skew < 1; a negative mean gives negative pulses)."""
    magnitude = abs(mean)
    i1, i2 = kernel.integral(1), kernel.integral(2)
    amp_mean = (1.0 - relative_skew) * sigma ** 2 * i1 / (magnitude * i2)
    amp_var = amp_mean ** 2 * relative_skew / (1.0 - relative_skew)
    rate_per_ms = magnitude / (amp_mean * i1)
    return ShotNoiseParameters(rate=1000.0 * rate_per_ms, amp_mean=math.copysign(amp_mean, mean),
                               amp_var=amp_var)
