"""LIF -> Dynap-SE bias currents: the values of DYNAPSE.md, the inverse relations, the limits."""

import numpy as np
import pytest

from neurodamus.export.dynapse.errors import UnrepresentableParameterError
from neurodamus.export.dynapse.parameters import (
    C_MEM,
    C_SYN,
    CURRENT_NAMES,
    LifParameters,
    check_representable,
    chip_biases,
    core_average,
    current_to_tau,
    lif_to_currents,
    refractory_from_iref,
)


def column(currents, name):
    return currents[:, CURRENT_NAMES.index(name)]


def test_rockpool_conversion_matches_the_reference_values():
    currents = lif_to_currents(tau_mem_ms=[10, 20, 30], tau_syn_ms=[5, 10, 20],
                               threshold=[1, 1.5, 2], bias=[0, 0.1, 0.2], currents="rockpool")
    expected = {
        "Itau_mem": [1.0638e-11, 5.3191e-12, 3.5461e-12],
        "Itau_syn": [1.7731e-10, 8.8652e-11, 4.4326e-11],
        "Ipulse": [35e-9] * 3,
        "Iref": [1.05e-9] * 3,
        "Ispkthr": [10e-9, 15e-9, 20e-9],
        "Idc": [0.0, 1e-9, 2e-9],
    }
    for name, values in expected.items():
        np.testing.assert_allclose(column(currents, name), values, rtol=1e-4, err_msg=name)
    np.testing.assert_allclose(column(currents, "Igain_mem"), 4 * column(currents, "Itau_mem"))
    np.testing.assert_allclose(column(currents, "Igain_syn"), 100 * column(currents, "Itau_syn"))
    for name in ("Itau_ahp", "If_nmda", "Igain_ahp", "Ipulse_ahp", "Iw_ahp"):
        assert not column(currents, name).any(), name


def test_matched_conversion_keeps_time_constants_and_maps_threshold_and_synapse():
    kwargs = dict(tau_mem_ms=[10, 20, 30], tau_syn_ms=[5, 10, 20], threshold=[1, 1.5, 2],
                  bias=[0, 0.1, 0.2], t_ref_ms=[1, 2, 3])
    matched, rockpool = lif_to_currents(**kwargs), lif_to_currents(**kwargs, currents="rockpool")
    for name in ("Itau_mem", "Itau_syn", "Igain_mem", "Ipulse", "Iref", "Itau_ahp", "Iw_ahp"):
        np.testing.assert_array_equal(column(matched, name), column(rockpool, name), name)
    # I_mem = G·u·Iscale with G = Igain_mem / Itau_mem = 4: the threshold is 4x Rockpool's.
    np.testing.assert_allclose(column(matched, "Ispkthr"), [40e-9, 60e-9, 80e-9])
    # The DPI subtracts its leak from its input: the DC source carries it where bias > 0.
    np.testing.assert_allclose(column(matched, "Idc"),
                               [0.0, 1e-9 + 5.3191e-12, 2e-9 + 3.5461e-12], rtol=1e-4)
    # A spike's synaptic jump (1 - e^(-t_pulse/tau_syn))·Igain_syn/Itau_syn·I_w is I_w itself.
    tau_syn = np.array([5e-3, 10e-3, 20e-3])
    jump = -np.expm1(-10e-6 / tau_syn) * column(matched, "Igain_syn") / column(matched, "Itau_syn")
    np.testing.assert_allclose(jump, 1.0)
    np.testing.assert_allclose(column(matched, "Igain_syn"), 88.7e-9, rtol=2e-3)
    with pytest.raises(ValueError, match="currents must be one of"):
        lif_to_currents(**kwargs, currents="samna")


def test_inverse_relations_give_back_the_time_constants():
    currents = lif_to_currents([10, 25], [3, 7], [1, 1], [0, 0], t_ref_ms=[1.0, 4.0])
    np.testing.assert_allclose(current_to_tau(column(currents, "Itau_mem"), C_MEM), [0.010, 0.025])
    np.testing.assert_allclose(current_to_tau(column(currents, "Itau_syn"), C_SYN), [0.003, 0.007])
    np.testing.assert_allclose(refractory_from_iref(column(currents, "Iref")), [0.001, 0.004])


def params(**changes):
    values = dict(tau_mem_ms=[10.0, 20.0], tau_syn_ms=[5.0, 5.0], threshold=[1.0, 1.0],
                  bias=[0.0, 0.1], reset=[0.0, 0.0], t_ref_ms=[1.0, 1.0])
    values.update(changes)
    return LifParameters(**{k: np.array(v, dtype=float) for k, v in values.items()})


@pytest.mark.parametrize("change, parameter, how_far", [
    ({"threshold": [1.0, -0.5]}, "threshold", "below zero by 0.5"),
    ({"bias": [0.0, -0.2]}, "bias", "below zero by 0.2"),
    ({"tau_mem_ms": [10.0, -3.0]}, "tau_mem_ms", "below zero by 3"),
    ({"tau_syn_ms": [5.0, 0.0]}, "tau_syn_ms", "it is zero"),
    ({"t_ref_ms": [1.0, 0.0]}, "t_ref_ms", "it is zero"),
    ({"threshold": [1.0, np.nan]}, "threshold", "not a finite number"),
])
def test_unrepresentable_parameters_name_neuron_parameter_and_amount(change, parameter, how_far):
    with pytest.raises(UnrepresentableParameterError, match=how_far) as caught:
        check_representable(params(**change), ["exc[0]", "exc[7]"])
    assert caught.value.neuron == "exc[7]"
    assert caught.value.parameter == parameter
    assert f"neuron exc[7]: {parameter} =" in str(caught.value)


def test_valid_parameters_pass():
    check_representable(params(), ["a[0]", "a[1]"])


def test_core_average_reports_the_worst_neurons_distance_from_the_mean():
    currents = np.array([[1.0, 0.0], [3.0, 0.0], [5.0, 0.0]])
    means, spreads = core_average(currents, np.array([0, 0, 1]), 2)
    np.testing.assert_allclose(means, [[2.0, 0.0], [5.0, 0.0]])
    np.testing.assert_allclose(spreads, [[0.5, 0.0], [0.0, 0.0]])


def test_chip_biases_name_every_current_and_keep_the_synaptic_time_constant():
    currents = lif_to_currents(20, 5, 1.5, 0.1, currents="rockpool")[0]
    biases = chip_biases(currents, np.array([1e-9, 2e-9, 3e-9, 4e-9]))
    assert biases["SOIF_LEAK_N"] == currents[CURRENT_NAMES.index("Itau_mem")]
    assert biases["SOIF_SPKTHR_P"] == pytest.approx(15e-9)
    assert biases["SYAM_W3_P"] == 4e-9
    # AMPA (24.5 pF) and GABA (25 pF) currents differ, their time constants do not.
    np.testing.assert_allclose(current_to_tau(biases["DEAM_ETAU_P"], 24.5e-12), 0.005)
    np.testing.assert_allclose(current_to_tau(biases["DEGA_ITAU_P"], 25e-12), 0.005)
    assert biases["DENM_ETAU_P"] == 0.0
