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
    (mean != 0, sigma > 0, 0 <= relative_skew < 1; a negative mean gives negative pulses).

    Computed through the cumulants, in the reference simulator's order of operations (so
    the rate and amplitudes, hence its random draws, are the same to the last bit): with
    I_1 = xi, I_2 = xi^2 A / 2, I_3 = xi^3 B 2 / 3 (A = 1 / (decay + rise),
    B = 1 / ((decay + 2 rise) (2 decay + rise))), the lowest skewness (8/3) B / A^2
    sigma / mean is c above, and theta_1 = 2 / (A xi) sigma^2 / mean,
    theta_2 = 3 A / (4 B xi) sigma skewness give amp_mean = 2 theta_1 - theta_2,
    amp_var = amp_mean (theta_2 - theta_1) -- the closed forms above, rearranged.
    """
    magnitude = abs(mean)
    rise, decay = kernel.rise_time, kernel.decay_time
    t_peak = math.log(decay / rise) / (1 / rise - 1 / decay)
    f_peak = math.exp(-t_peak / decay) - math.exp(-t_peak / rise)
    xi = (decay - rise) / f_peak  # I_1
    a = 1 / (decay + rise)
    b = 1 / ((decay + 2 * rise) * (2 * decay + rise))
    lowest_skew = (8 / 3) * (b / a ** 2) * (sigma / magnitude)
    skew = (1 + relative_skew) * lowest_skew
    theta1 = 2 / (a * xi) * (sigma ** 2 / magnitude)
    theta2 = (3 * a) / (4 * b * xi) * (sigma * skew)
    amp_mean = 2 * theta1 - theta2
    # relative_skew 0 (fixed amplitudes) leaves round-off, perhaps below 0 (the reference
    # then fails): no spread.
    amp_var = max(amp_mean * (theta2 - theta1), 0.0)
    rate_per_ms = magnitude / (amp_mean * xi)
    return ShotNoiseParameters(rate=rate_per_ms * 1000, amp_mean=math.copysign(amp_mean, mean),
                               amp_var=amp_var)
