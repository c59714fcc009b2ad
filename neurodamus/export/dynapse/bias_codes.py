"""Bias currents as the chip's (coarse, fine) codes, and the current each code really gives.

On the Dynap-SE2 a bias is not a current but a code: coarse 0..5 picks one of six ranges
(about a factor 8 apart), fine 0..255 an 8-bit current DAC within the range. The current a code
gives comes from measured transfer tables, one for the N-type and one for the P-type bias
generator output (the last letter of the bias name), multiplied by a per-bias scaling factor:

    I(name, coarse, fine) = SCALE_FACTORS[name] · TRANSFER[name[-1]][coarse, fine]

Data source. Both the transfer tables (2 types x 6 coarse x 256 fine currents) and the scaling
factors are SynSense's published Dynap-SE2 bias-generator characterisation ("Dynap-SE2
documentation, Input interface configuration", hardware.basket.office.synsense.ai/
documentation/dynapse2docs/Sections/input_interface_config.html), as distributed with
Rockpool 3.x (github.com/synsense/rockpool, rockpool/devices/dynapse/lookup/paramgen.py for the
tables, rockpool/devices/dynapse/lookup/scaling.py for the factors; Rockpool's BiasGenSE2 uses
them the same way: table current times the bias's factor).

We do not ship the 3072 table entries. We ship our own compact model of them, fitted by
least squares to the published tables: the fine DAC is binary weighted, so within a coarse
range the table is, to a fraction of one fine step,

    TRANSFER[t][c, f] = S·g(L),   L = sum_k bit_k(f)·w_k,   g(L) = o + L + a2·L² + a3·L³

(8 bit weights w_k, which reproduce the table's non-monotonic steps at f = 16, 32, 64, 128; a
small offset o; a cubic for the compression at the top of a range; S the current at f = 255).
The four lowest codes of each range sit at the dark-current floor, where no smooth model fits;
they are the table's own values. Largest deviation of this model from the published table: 0.29
of a fine step in coarse 0, 0.13 in coarse 1, 0.05 in coarses 2..5 (rms 0.04, 0.03, <0.011).
"""

from dataclasses import dataclass

import numpy as np

from .chip_config import ChipConfig
from .errors import BiasOutOfRangeError
from .parameters import chip_biases

N_COARSE, N_FINE = 6, 256
N_EXPLICIT = 4          # fine codes 0..3 of each range: the table's own values

# Per transistor type, per coarse: ((I at fine 0..3) A, S = I at fine 255 A, o, (w_0..w_7), a2, a3).
# Fitted to the published tables (see the module docstring); our numbers, not a copy.
_TRANSFER_MODEL = {
    "N": (
        ((4.93611e-13, 6.56791e-13, 8.84372e-13, 1.06856e-12), 7.17655e-11, 0.000945997,
         (0.00445604, 0.00865163, 0.0169303, 0.0331034, 0.0650218, 0.127744, 0.250968,
          0.492848), 0.000196978, -0.000945333),
        ((9.35073e-13, 2.68681e-12, 5.12631e-12, 7.58362e-12), 5.72773e-10, 0.000217746,
         (0.00439639, 0.00863102, 0.0169936, 0.0333512, 0.0654637, 0.128477, 0.25194,
          0.493489), -0.00466046, 0.00167349),
        ((1.0613e-12, 2.07945e-11, 4.04219e-11, 6.11102e-11), 4.56801e-09, 0.000129849,
         (0.00451888, 0.00879839, 0.0172221, 0.033742, 0.066075, 0.129235, 0.252238,
          0.491296), -0.00558192, 0.00249257),
        ((1.07807e-12, 1.7145e-10, 3.3216e-10, 5.03e-10), 3.64221e-08, 0.000141388,
         (0.00467825, 0.00907173, 0.0176865, 0.0344853, 0.0671137, 0.130285, 0.252238,
          0.487272), -0.00481378, 0.0018878),
        ((1.08016e-12, 1.41835e-09, 2.72268e-09, 4.13641e-09), 2.90358e-07, 0.000138399,
         (0.00485416, 0.00932813, 0.0180333, 0.0348529, 0.0672483, 0.129689, 0.250663,
          0.487457), -0.00362427, 0.00139213),
        ((1.08055e-12, 1.0758e-08, 2.03806e-08, 3.11051e-08), 2.27591e-06, 0.000112788,
         (0.0047003, 0.00891539, 0.0171019, 0.0329907, 0.0640909, 0.125792, 0.249894,
          0.501866), -0.00378531, -0.0015601),
    ),
    "P": (
        ((3.72786e-13, 5.28016e-13, 7.6097e-13, 9.52468e-13), 6.69112e-11, 0.000551783,
         (0.00447047, 0.00866466, 0.0168827, 0.0330528, 0.064905, 0.127526, 0.250543,
          0.491995), 0.00306878, -0.00171938),
        ((6.59055e-13, 2.45668e-12, 4.71217e-12, 7.03266e-12), 5.36282e-10, 4.83102e-05,
         (0.00445203, 0.00862177, 0.0169371, 0.0332127, 0.0652311, 0.127976, 0.25102,
          0.491684), 0.00149713, -0.000700711),
        ((7.47033e-13, 1.9343e-11, 3.76433e-11, 5.69678e-11), 4.30038e-09, -2.80906e-05,
         (0.00449708, 0.00875489, 0.0171408, 0.0335932, 0.0657376, 0.128593, 0.250999,
          0.488865), 0.00283021, -0.000931687),
        ((7.58773e-13, 1.60174e-10, 3.10715e-10, 4.70672e-10), 3.44488e-08, -9.62618e-05,
         (0.00466407, 0.0090419, 0.0176328, 0.0343741, 0.066897, 0.129866, 0.251441,
          0.485708), 0.00111222, -0.000577456),
        ((7.60304e-13, 1.33106e-09, 2.55956e-09, 3.89303e-09), 2.77419e-07, 8.82201e-05,
         (0.0047944, 0.00922513, 0.0178316, 0.0344652, 0.0664964, 0.12824, 0.247856,
          0.482008), 0.00887815, 0.000339654),
        ((7.60666e-13, 1.01502e-08, 1.92575e-08, 2.94154e-08), 2.24486e-06, -0.000175892,
         (0.00453679, 0.00859955, 0.016488, 0.0318006, 0.0617759, 0.121255, 0.240952,
          0.483775), 0.0622254, -0.0300151),
    ),
}

# Per-bias scaling factors of the published characterisation, for every bias we program.
SCALE_FACTORS = {
    "SOIF_GAIN_N": 1.05, "SOIF_LEAK_N": 0.61, "SOIF_REFR_N": 1.05, "SOIF_DC_P": 0.38,
    "SOIF_SPKTHR_P": 0.38, "SOAD_PWTAU_N": 0.92, "SOAD_GAIN_P": 0.68, "SOAD_TAU_P": 0.2,
    "SOAD_W_N": 0.92, "DEAM_ETAU_P": 0.2, "DEAM_EGAIN_P": 0.68, "DENM_ETAU_P": 0.2,
    "DENM_EGAIN_P": 0.68, "DEGA_IGAIN_P": 0.68, "DEGA_ITAU_P": 0.2, "DESC_IGAIN_P": 0.68,
    "DESC_ITAU_P": 0.2, "DENM_NMREV_N": 1.05, "SYPD_EXT_N": 0.92, "SYAM_W0_P": 0.22,
    "SYAM_W1_P": 0.22, "SYAM_W2_P": 0.22, "SYAM_W3_P": 0.22,
}

_FINE_BITS = np.array([[(fine >> k) & 1 for k in range(8)] for fine in range(N_FINE)],
                      dtype=float)     # [256, 8]


def _transfer_table(model) -> np.ndarray:
    table = np.empty((N_COARSE, N_FINE))
    for coarse, (explicit, top, offset, weights, a2, a3) in enumerate(model):
        level = _FINE_BITS @ np.asarray(weights)
        table[coarse] = top * (offset + level + a2 * level ** 2 + a3 * level ** 3)
        table[coarse, :N_EXPLICIT] = explicit
    return table


# Current (A) of each (coarse, fine) before the bias's scaling factor, per transistor type.
TRANSFER = {kind: _transfer_table(model) for kind, model in _TRANSFER_MODEL.items()}


def bias_type(name: str) -> str:
    """'N' or 'P': which generator output drives the bias (the last letter of its name)."""
    kind = name.rsplit("_", 1)[-1]
    if name not in SCALE_FACTORS or kind not in TRANSFER:
        raise KeyError(f"no bias-generator data for chip bias {name!r}")
    return kind


def achievable_currents(name: str) -> np.ndarray:
    """[6, 256] current (A) of every (coarse, fine) code of chip bias `name`."""
    return SCALE_FACTORS[name] * TRANSFER[bias_type(name)]


def code_current(name: str, coarse: int, fine: int) -> float:
    """The current (A) that code (coarse, fine) gives on chip bias `name`."""
    if not (0 <= coarse < N_COARSE and 0 <= fine < N_FINE):
        raise ValueError(f"code ({coarse}, {fine}) is outside coarse 0..5, fine 0..255")
    return float(achievable_currents(name)[coarse, fine])


@dataclass(frozen=True)
class BiasCode:
    """One bias as programmed: its code, the current asked for and the current the code gives."""

    name: str
    coarse: int
    fine: int
    requested: float      # A
    current: float        # A, what (coarse, fine) gives

    @property
    def type(self) -> str:
        return bias_type(self.name)

    @property
    def error(self) -> float:
        """current - requested (A)."""
        return self.current - self.requested

    @property
    def relative_error(self) -> float | None:
        """(current - requested) / requested; None for a bias asked to be 0 (off)."""
        return self.error / self.requested if self.requested > 0 else None

    def as_document(self) -> dict:
        return {"type": self.type, "coarse": self.coarse, "fine": self.fine,
                "requested_A": self.requested, "coded_A": self.current,
                "relative_error": self.relative_error}


def encode_bias(name: str, current: float, where: str = "") -> BiasCode:
    """The code whose current is nearest `current` (A); ties go to the lower (coarse, fine).

    Zero (a circuit that is off) gets the lowest code, (0, 0), whose current is a fraction of
    a pA: zero itself cannot be encoded. A current above the largest code by more than half its
    top fine step raises BiasOutOfRangeError naming `where` (e.g. "chip 0 core 1").
    """
    currents = achievable_currents(name)
    label = f"{where}: " if where else ""
    if not np.isfinite(current) or current < 0:
        raise BiasOutOfRangeError(f"{label}bias {name} = {current:g} A cannot be encoded: a "
                                  "bias current must be a finite, non-negative number",
                                  name=name, excess=float("inf"))
    top = float(currents.max())
    top_step = float(currents[-1, -1] - currents[-1, -2])
    if current > top + top_step / 2:
        raise BiasOutOfRangeError(
            f"{label}bias {name} = {current:.4g} A is above the largest current the bias "
            f"generator gives ({top:.4g} A at coarse 5, fine 255) by "
            f"{(current / top - 1) * 100:.3g}%", name=name, excess=current - top)
    index = int(np.argmin(np.abs(currents - current)))
    coarse, fine = divmod(index, N_FINE)
    return BiasCode(name, coarse, fine, float(current), float(currents[coarse, fine]))


def encode_biases(biases: dict, where: str = "") -> dict[str, BiasCode]:
    """{chip bias name: current (A)} -> {chip bias name: BiasCode}, in the given order."""
    return {name: encode_bias(name, float(value), where) for name, value in biases.items()}


def core_label(config: ChipConfig, row: int) -> str:
    return f"chip {int(config.core_chip[row])} core {int(config.core_index[row])}"


def core_bias_codes(config: ChipConfig) -> list[dict[str, BiasCode]]:
    """Per core row: every chip bias we program (parameters.chip_biases), encoded."""
    return [encode_biases(chip_biases(config.core_currents[row], config.core_base_weights[row]),
                          core_label(config, row))
            for row in range(len(config.core_chip))]


def rounding_summary(config: ChipConfig, codes: list[dict[str, BiasCode]]) -> str:
    """One line: how many biases were encoded and the worst relative rounding error."""
    n_codes = sum(len(c) for c in codes)
    worst = worst_rounding(codes, [core_label(config, row) for row in range(len(codes))])
    if worst is None:
        return f"bias codes: {n_codes} (coarse, fine) codes, all biases off"
    error, label, name = worst
    return (f"bias codes: {n_codes} (coarse, fine) codes; worst rounding error "
            f"{error * 100:.3g}% ({name} on {label})")


def worst_rounding(codes_per_core, core_labels) -> tuple[float, str, str] | None:
    """(largest |relative error|, its core label, its bias name) over biases asked to be on."""
    worst = None
    for codes, label in zip(codes_per_core, core_labels):
        for code in codes.values():
            if code.relative_error is not None and (
                    worst is None or abs(code.relative_error) > worst[0]):
                worst = (abs(code.relative_error), label, code.name)
    return worst
