"""Bias currents as (coarse, fine) codes: the transfer tables, nearest-code rounding, its limits."""

import numpy as np
import pytest

from neurodamus.export.dynapse.bias_codes import (
    N_COARSE,
    N_FINE,
    SCALE_FACTORS,
    TRANSFER,
    achievable_currents,
    code_current,
    core_bias_codes,
    encode_bias,
    rounding_summary,
)
from neurodamus.export.dynapse.chip_config import build_chip_config
from neurodamus.export.dynapse.errors import BiasOutOfRangeError
from neurodamus.export.dynapse.network import PointNetwork
from neurodamus.export.dynapse.parameters import (
    BASE_WEIGHT_BIAS_NAMES,
    CHIP_BIAS_NAMES,
    CURRENT_NAMES,
    UNUSED_CHIP_BIASES,
    LifParameters,
    lif_to_currents,
)


def network(threshold=1.0, bias=0.0, input_weights=()):
    """One LIF (tau_mem 10, tau_syn 5, t_ref 2 ms) fed by one input channel per weight."""
    k = len(input_weights)
    return PointNetwork(
        population=np.array(["pop"]), node_id=np.arange(1), kind=np.array(["LIF"]),
        params=LifParameters(*(np.array([v], dtype=float)
                               for v in (10.0, 5.0, threshold, bias, 0.0, 2.0))),
        input_population=np.full(k, "stim"), input_node_id=np.arange(k),
        edge_source=np.arange(k), edge_from_input=np.ones(k, bool),
        edge_target=np.zeros(k, np.int64), edge_weight=np.array(input_weights, dtype=float),
        edge_delay_ms=np.ones(k), mv_per_unit=None)


NAMES = ("SOIF_LEAK_N", "SOIF_SPKTHR_P", "SYAM_W0_P", "SYPD_EXT_N")


def test_every_programmed_bias_has_a_type_and_a_scale_factor():
    programmed = {n for names in CHIP_BIAS_NAMES.values() for n in names}
    programmed |= set(UNUSED_CHIP_BIASES) | set(BASE_WEIGHT_BIAS_NAMES)
    assert programmed <= set(SCALE_FACTORS)
    for kind, table in TRANSFER.items():
        assert table.shape == (N_COARSE, N_FINE), kind
        # Each coarse range reaches about 8x the one below; fine 255 is a range's top.
        tops = table[:, -1]
        assert np.all(tops[1:] / tops[:-1] > 6) and np.all(tops[1:] / tops[:-1] < 10)
        assert np.all(table[:, 255] >= table.max(axis=1) * 0.999)
        assert 1e-13 < table.min() < 1e-12 and 2e-6 < table.max() < 2.5e-6


@pytest.mark.parametrize("name", NAMES)
def test_every_code_reproduces_its_own_current(name):
    currents = achievable_currents(name)
    for coarse in range(N_COARSE):
        for fine in range(0, N_FINE, 7):
            code = encode_bias(name, code_current(name, coarse, fine))
            assert code.current == currents[coarse, fine]
            assert code.error == 0


@pytest.mark.parametrize("name", NAMES)
def test_a_current_is_rounded_to_the_nearest_code_within_half_a_step(name):
    levels = np.unique(achievable_currents(name))
    for current in np.geomspace(levels[0] * 1.01, levels[-1] * 0.999, 700):
        code = encode_bias(name, current)
        above = np.searchsorted(levels, current)
        gap = levels[above] - levels[above - 1]
        assert abs(code.error) <= gap / 2 * (1 + 1e-9)
        if current > 1e-10:                 # past the lowest range: a 1-2% resolution
            assert abs(code.error / code.requested) < 0.02


def test_lif_currents_are_encoded_to_the_documented_resolution():
    # tau_mem 10 ms -> Itau_mem 1.0638e-11 A, threshold 1.5 -> 15 nA, t_ref 1 ms -> 1.05 nA.
    itau, _, _, _, _, iref, ispkthr = lif_to_currents(10.0, 5.0, 1.5, 0.0, 1.0)[0][:7]
    for name, current in (("SOIF_LEAK_N", itau), ("SOIF_REFR_N", iref),
                          ("SOIF_SPKTHR_P", ispkthr)):
        code = encode_bias(name, current)
        assert abs(code.error / code.requested) < 0.02, (name, code)
        assert code.type == name[-1]


def test_zero_gets_the_lowest_code_and_no_relative_error():
    code = encode_bias("SOIF_DC_P", 0.0)
    assert (code.coarse, code.fine) == (0, 0)
    assert 0 < code.current < 1e-12 and code.relative_error is None
    assert code.as_document()["relative_error"] is None


def test_a_current_above_the_generator_is_a_named_error():
    with pytest.raises(BiasOutOfRangeError, match=r"chip 0 core 1: bias SOIF_SPKTHR_P = 1e-06 A "
                                                  r"is above the largest current .* by 17"):
        encode_bias("SOIF_SPKTHR_P", 1e-6, "chip 0 core 1")
    with pytest.raises(BiasOutOfRangeError, match="finite, non-negative"):
        encode_bias("SOIF_DC_P", -1e-9)
    with pytest.raises(ValueError, match="outside coarse"):
        code_current("SOIF_DC_P", 6, 0)


def test_core_codes_cover_every_chip_bias_and_report_the_worst_rounding():
    config, _ = build_chip_config(network(bias=0.5, input_weights=[2.0, 1.0]))
    codes = core_bias_codes(config)
    assert len(codes) == 1
    assert set(codes[0]) == {n for names in CHIP_BIAS_NAMES.values() for n in names} | set(
        UNUSED_CHIP_BIASES) | set(BASE_WEIGHT_BIAS_NAMES)
    # The matched conversion: Idc = bias x 10 nA + Itau_mem.
    itau_mem = config.core_currents[0, CURRENT_NAMES.index("Itau_mem")]
    assert codes[0]["SOIF_DC_P"].requested == pytest.approx(5e-9 + itau_mem)
    line = rounding_summary(config, codes)
    assert line.startswith("bias codes: 23 (coarse, fine) codes; worst rounding error")
    assert "on chip 0 core 0" in line


def test_a_threshold_beyond_the_generator_fails_the_export_naming_the_core():
    config, _ = build_chip_config(network(threshold=100.0, bias=0.0))
    with pytest.raises(BiasOutOfRangeError, match="chip 0 core 0: bias SOIF_SPKTHR_P"):
        core_bias_codes(config)
