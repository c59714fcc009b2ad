"""LIF parameters -> Dynap-SE bias currents (the formulas of shared/DYNAPSE.md).

The chip knows no millivolts: threshold, bias and weights enter it as dimensionless numbers
multiplied by Iscale = 10 nA. Our dimensionless LIF (what network.py produces) is

    tau_mem du/dt = -u + s + bias        spike when u >= threshold, then u = reset
    tau_syn ds/dt = -s                   a spike of weight w on a synapse: s += w

(IntFire1 has no s: its weight is added to u directly). A LIF given in mV / pA / pF
becomes this by u = (V - E_L) / U, with U the export's millivolts per unit; see network.py.

Two conversions (`currents=`):
* "rockpool": DYNAPSE.md's formulas, the currents Rockpool's mapper gives (Ispkthr =
  threshold·Iscale, Igain_syn = 100·Itau_syn) -- all 13 only where t_ref is 1 ms: Rockpool
  3.1's mapper ignores the LIF's refractory period (its Iref is always 1.05 nA), ours keeps
  it. The chip then differs from the LIF by two
  factors: its membrane gain Igain_mem/Itau_mem = 4 makes bias and synaptic input act 4x
  stronger, and a spike charges the synapse with w·Iscale·(100·t_pulse = 1 ms) whatever
  tau_syn, against the LIF's w·tau_syn.
* "matched" (the default): the same time constants, refractory period and gain, but the
  threshold and the synaptic gain chosen so that, without positive feedback and with
  I_mem >> Igain_mem, the chip's equations are the LIF's under I_mem = G·u·Iscale,
  I_syn = s·Iscale, G = Igain_mem/Itau_mem (see lif_to_currents).
"""

from dataclasses import dataclass

import numpy as np

from .errors import UnrepresentableParameterError

# Physical constants of the chip (DYNAPSE.md, "Constants").
U_T = 25e-3                      # thermal voltage (V)
KAPPA = (0.75 + 0.66) / 2        # subthreshold slope factor, mean of n and p
I_0 = 0.5e-12                    # dark current, the floor of every current (A)
V_TH = 0.7                       # pulse extender / refractory threshold voltage (V)
C_MEM = 3e-12
C_SYN = 25e-12                   # the generic synapse capacitance of the Itau_syn formula
C_AMPA, C_GABA = 24.5e-12, 25e-12
C_AHP = 40e-12
C_PULSE = 0.5e-12
C_PULSE_AHP = 0.5e-12
C_REF = 1.5e-12
I_SCALE = 10e-9                  # dimensionless weight / threshold / bias -> amperes
R_GAIN_MEM = 4.0
R_GAIN_SYN = 100.0
T_PULSE_S = 10e-6
DEFAULT_T_REF_MS = 1.0
CONVERSIONS = ("matched", "rockpool")
DEFAULT_CONVERSION = "matched"

# The 13 per-core bias currents, in the order of every array that holds them.
CURRENT_NAMES = ("Itau_mem", "Itau_syn", "Igain_mem", "Igain_syn", "Ipulse", "Iref", "Ispkthr",
                 "Idc", "Itau_ahp", "If_nmda", "Igain_ahp", "Ipulse_ahp", "Iw_ahp")

# Our current -> the chip's bias name(s). Itau_syn and Igain_syn program both synapse types we
# use: AMPA (positive weights) and GABA (negative weights).
CHIP_BIAS_NAMES = {
    "Itau_mem": ("SOIF_LEAK_N",), "Itau_syn": ("DEAM_ETAU_P", "DEGA_ITAU_P"),
    "Igain_mem": ("SOIF_GAIN_N",), "Igain_syn": ("DEAM_EGAIN_P", "DEGA_IGAIN_P"),
    "Ipulse": ("SYPD_EXT_N",), "Iref": ("SOIF_REFR_N",), "Ispkthr": ("SOIF_SPKTHR_P",),
    "Idc": ("SOIF_DC_P",), "Itau_ahp": ("SOAD_TAU_P",), "If_nmda": ("DENM_NMREV_N",),
    "Igain_ahp": ("SOAD_GAIN_P",), "Ipulse_ahp": ("SOAD_PWTAU_N",), "Iw_ahp": ("SOAD_W_N",),
}
# Chip biases of the synapse types a LIF leaves unused: off.
UNUSED_CHIP_BIASES = ("DENM_ETAU_P", "DENM_EGAIN_P", "DESC_ITAU_P", "DESC_IGAIN_P")
BASE_WEIGHT_BIAS_NAMES = ("SYAM_W0_P", "SYAM_W1_P", "SYAM_W2_P", "SYAM_W3_P")
# Capacitance of each chip synapse bias (the same time constant needs a current per capacitance).
_SYNAPSE_CAPACITANCE = {"DEAM_ETAU_P": C_AMPA, "DEAM_EGAIN_P": C_AMPA,
                        "DEGA_ITAU_P": C_GABA, "DEGA_IGAIN_P": C_GABA}

PARAMETER_NAMES = ("tau_mem_ms", "tau_syn_ms", "threshold", "bias", "reset", "t_ref_ms")


@dataclass(frozen=True)
class LifParameters:
    """Dimensionless LIF parameters, one array entry per neuron (times in ms)."""

    tau_mem_ms: np.ndarray
    tau_syn_ms: np.ndarray
    threshold: np.ndarray
    bias: np.ndarray
    reset: np.ndarray
    t_ref_ms: np.ndarray

    def as_matrix(self) -> np.ndarray:
        """[n_neurons, 6] in the order of PARAMETER_NAMES."""
        return np.column_stack([getattr(self, name) for name in PARAMETER_NAMES]).astype(float)


def tau_to_current(tau_s, capacitance):
    """Itau = U_T·C / (κ·τ): the leak current giving a time constant τ (s) on capacitance C."""
    return U_T * capacitance / (KAPPA * np.asarray(tau_s, dtype=float))


def current_to_tau(current, capacitance):
    """The inverse of tau_to_current: τ (s) = U_T·C / (κ·Itau)."""
    return U_T * capacitance / (KAPPA * np.asarray(current, dtype=float))


def refractory_from_iref(iref):
    """t_ref (s) = V_th·C_ref / Iref."""
    return V_TH * C_REF / np.asarray(iref, dtype=float)


def lif_to_currents(tau_mem_ms, tau_syn_ms, threshold, bias, t_ref_ms=DEFAULT_T_REF_MS,
                    currents=DEFAULT_CONVERSION):
    """The 13 bias currents (A) of each neuron, as a [n, 13] array in CURRENT_NAMES order.

    `currents` is "matched" (default) or "rockpool" (see the module's docstring). The chip's
    linear DPI (no feedback, I_mem >> Igain_mem) is

        tau_mem dI_mem/dt = G·(I_syn + Idc - Itau_mem) - I_mem,  G = Igain_mem / Itau_mem,
        tau_syn dI_syn/dt = -I_syn,
        a spike: I_syn += (1 - e^(-t_pulse/tau_syn))·(Igain_syn/Itau_syn)·I_w

    with I_w = w·Iscale. "matched" makes it the LIF under I_mem = G·u·Iscale, I_syn = s·Iscale:
    Ispkthr = G·threshold·Iscale; Igain_syn = Itau_syn / (1 - e^(-t_pulse/tau_syn)) (a spike's
    jump is w·Iscale, ≈ 88.7 nA whatever tau_syn); and where bias > 0, Idc = bias·Iscale +
    Itau_mem (the DPI subtracts its leak from its input; with bias 0 the DC source stays off,
    a 0.1% shift of the rheobase of the synaptic input at tau_mem = 10 ms).

    Call check_representable first: this function does the arithmetic only.
    """
    if currents not in CONVERSIONS:
        raise ValueError(f"currents must be one of {CONVERSIONS}, got {currents!r}")
    tau_mem_ms, tau_syn_ms, threshold, bias, t_ref_ms = np.broadcast_arrays(
        *(np.atleast_1d(np.asarray(x, dtype=float))
          for x in (tau_mem_ms, tau_syn_ms, threshold, bias, t_ref_ms)))
    itau_mem = tau_to_current(tau_mem_ms * 1e-3, C_MEM)
    itau_syn = tau_to_current(tau_syn_ms * 1e-3, C_SYN)
    igain_mem = R_GAIN_MEM * itau_mem
    zero = np.zeros_like(itau_mem)
    if currents == "rockpool":
        igain_syn, ispkthr, idc = R_GAIN_SYN * itau_syn, threshold * I_SCALE, bias * I_SCALE
    else:
        igain_syn = itau_syn / -np.expm1(-T_PULSE_S / (tau_syn_ms * 1e-3))
        ispkthr = (igain_mem / itau_mem) * threshold * I_SCALE
        idc = np.where(bias > 0, bias * I_SCALE + itau_mem, 0.0)
    columns = {
        "Itau_mem": itau_mem, "Itau_syn": itau_syn,
        "Igain_mem": igain_mem, "Igain_syn": igain_syn,
        "Ipulse": zero + V_TH * C_PULSE / T_PULSE_S,
        "Iref": V_TH * C_REF / (t_ref_ms * 1e-3),
        "Ispkthr": ispkthr, "Idc": idc,
        # A LIF has neither adaptation nor an NMDA gate: those circuits stay off.
        "Itau_ahp": zero, "If_nmda": zero, "Igain_ahp": zero, "Ipulse_ahp": zero, "Iw_ahp": zero,
    }
    return np.column_stack([columns[name] for name in CURRENT_NAMES])


def check_representable(params: LifParameters, neuron_names) -> None:
    """Raise UnrepresentableParameterError for the first parameter no current can express.

    `neuron_names[i]` names neuron i in the message (e.g. "exc[12]"). Time constants, threshold
    and refractory period must be positive and finite (they set a current, or divide one);
    the bias must be non-negative (a current cannot flow backwards through the DC source).
    """
    strictly_positive = {
        "tau_mem_ms": "a time constant sets a leak current, which must be positive",
        "tau_syn_ms": "a time constant sets a leak current, which must be positive",
        "threshold": "Ispkthr = threshold x 10 nA must be a positive current",
        "t_ref_ms": "Iref = V_th·C_ref / t_ref needs a positive refractory period",
    }
    for name, reason in strictly_positive.items():
        values = np.asarray(getattr(params, name), dtype=float)
        bad = np.flatnonzero(~(values > 0) | ~np.isfinite(values))
        if bad.size:
            i = int(bad[0])
            raise UnrepresentableParameterError(
                name, float(values[i]), neuron_names[i],
                f"{reason}; {_how_far(values[i])}{_and_others(bad.size)}",
                excess=_excess(values[i]))
    bias = np.asarray(params.bias, dtype=float)
    bad = np.flatnonzero(~(bias >= 0) | ~np.isfinite(bias))
    if bad.size:
        i = int(bad[0])
        raise UnrepresentableParameterError(
            "bias", float(bias[i]), neuron_names[i],
            f"Idc = bias x 10 nA cannot be negative; {_how_far(bias[i])}{_and_others(bad.size)}",
            excess=_excess(bias[i]))


def _excess(value: float) -> float:
    return float(-value) if np.isfinite(value) else float("inf")


def _how_far(value: float) -> str:
    if not np.isfinite(value):
        return "not a finite number"
    return "it is zero" if value == 0 else f"below zero by {-value:g}"


def _and_others(count: int) -> str:
    return f"; {count - 1} more neuron(s) likewise" if count > 1 else ""


def current_spread(currents: np.ndarray) -> np.ndarray:
    """Per current (column): max |I_neuron - mean| / mean over the rows (0 where the mean is 0),
    i.e. how far the worst neuron's own value is from the mean a core is programmed with."""
    mean = currents.mean(axis=0)
    deviation = np.abs(currents - mean).max(axis=0)
    return np.divide(deviation, mean, out=np.zeros_like(mean), where=mean > 0)


def core_average(neuron_currents: np.ndarray, neuron_core: np.ndarray, n_cores: int):
    """Mean current per core (the chip has one set per core) and the spread that hides.

    Returns ([n_cores, 13] means, [n_cores, 13] spreads, see current_spread).
    """
    means = np.zeros((n_cores, neuron_currents.shape[1]))
    spreads = np.zeros_like(means)
    for core in range(n_cores):
        currents = neuron_currents[neuron_core == core]
        if len(currents):
            means[core], spreads[core] = currents.mean(axis=0), current_spread(currents)
    return means, spreads


def chip_biases(core_currents: np.ndarray, base_weights: np.ndarray) -> dict:
    """The currents of one core under the chip's own bias names (A), base weights included.

    The synapse biases are scaled by their capacitance over C_SYN, so AMPA and GABA get the
    same time constant as the LIF's Itau_syn (which the formula defines with C_SYN = 25 pF).
    """
    biases = {}
    for index, name in enumerate(CURRENT_NAMES):
        for chip_name in CHIP_BIAS_NAMES[name]:
            scale = _SYNAPSE_CAPACITANCE.get(chip_name, C_SYN) / C_SYN
            biases[chip_name] = float(core_currents[index]) * scale
    for chip_name in UNUSED_CHIP_BIASES:
        biases[chip_name] = 0.0
    for chip_name, weight in zip(BASE_WEIGHT_BIAS_NAMES, base_weights):
        biases[chip_name] = float(weight)
    return biases
