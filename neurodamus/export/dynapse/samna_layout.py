"""The whole of samna's Dynapse2Configuration as JSON: every chip, core, neuron and parameter field.

samna (the board software) serialises its objects with cereal's JSON archive: numbered objects
("value0", "value1", ...) for fixed-size arrays, plain lists for vectors, camelCase names, and a
parameter map as a list of {"key": name, "value": parameter}. The fields, their names, types and
order are those Rockpool 3.1 mirrors without samna (rockpool/devices/dynapse/samna_alias/
modules.py, whose to_json writes this layout); this module is our own code from those facts.

    configuration = {"chips": [chip, ...]}
    chip       = {"cores": {"value0".."value3": core}, "globalParameters": map,
                  "sharedParameters01": map, "sharedParameters23": map,
                  "sadcGroupParameters01": {numbered maps}, "sadcGroupParameters23": {...},
                  "sadcEnables": {8 switches}, "dvsIf": dvs, "bioamps": bioamps,
                  "enablePg0ReferenceMonitor", "enablePg1ReferenceMonitor",
                  "paramGen0Powerdown", "paramGen1Powerdown": bool}
    core       = {"neurons": {"value0".."value255": neuron}, "neuronMonitoringOn": bool,
                  "monitoredNeuron": int, "parameters": map, "sadcEnables": {14 switches},
                  "enableSyawStdbufAn", "enablePulseExtenderMonitor1/2": bool, "_id", "_cookie"}
    parameter  = {"type": ord('N') or ord('P'), "coarseValue": 0..5, "fineValue": 0..255,
                  "_address": int, "_cookie": int, "_initialType": 1 (N) or 0 (P),
                  "_switchableType": bool}
    neuron     = {"synapses": {64}, "destinations": {4}, "latchSoDc", ... 14 latch switches}
    synapse    = {"dendrite", "stp", "weight": {4 bits}, "preciseDelay", "mismatchedDelay", "tag"}
    destination = {"core": {4 bits}, "xHop", "yHop", "tag"}

What Rockpool does not publish, we do not invent:
* A core's parameter map holds CORE_PARAMETER_NAMES: every bias of the published Dynap-SE2
  bias-generator table (Rockpool's lookup/scaling.py) whose name ends in its transistor type
  (_N or _P), the sADC's NCCF_* biases excepted (they belong to the chip's sADC groups). The
  table spells the delay biases SYPD_DYL*; samna, as used against boards in published user code,
  SYPD_DLY*: we write samna's spelling. Biases the export does not compute are code (0, 0).
* `_address` and `_cookie` (the parameter generator's internal address) and a core's `_id` and
  `_cookie` are samna's own; Rockpool's mirror defaults them to 0, and so do we.
* The chip-level parameter maps (global, shared, sADC groups), the bio-amplifier channels and
  routes, and the DVS interface's pixel destinations are written empty: their names and sizes
  are not published. The switches are off, the DVS mode 0 (DVS128), every number 0.
So this file is the configuration as data, complete in its fields; it is not meant for samna's
from_json on a board (that would zero the internal addresses). The supported route onto a board
is apply.apply_export, which sets by attribute only what the export determines.
"""

from typing import Any

CORES_PER_CHIP, NEURONS_PER_CORE, CAM_SLOTS, DESTINATION_SLOTS, MASK_BITS = 4, 256, 64, 4, 4
TYPE_CODES = {"N": ord("N"), "P": ord("P")}
INITIAL_TYPE = {"P": 0, "N": 1}          # Rockpool's ParameterType: p = 0, n = 1
LATCHES = ("latchSoDc", "latchSoAdaptation", "latchSoifKill", "latchCohoCaMem", "latchHoEnable",
           "latchHoSoDe", "latchDeamAmpa", "latchDenmNmda", "latchDeConductance",
           "latchDeamAlpha", "latchDenmAlpha", "latchDeMux", "latchSoifType", "latchHoActive")
CORE_PARAMETER_NAMES = (
    "LBWR_VB_P", "SOIF_GAIN_N", "SOIF_LEAK_N", "SOIF_REFR_N", "SOIF_DC_P", "SOIF_SPKTHR_P",
    "SOIF_CC_N", "SOAD_PWTAU_N", "SOAD_GAIN_P", "SOAD_TAU_P", "SOAD_W_N", "SOAD_CASC_P",
    "SOCA_W_N", "SOCA_GAIN_P", "SOCA_TAU_P", "SOHO_VB_P", "SOHO_VH_P", "SOHO_VREF_P",
    "SOHO_VREF_L_P", "SOHO_VREF_H_P", "SOHO_VREF_M_P", "DEAM_ETAU_P", "DEAM_EGAIN_P",
    "DEAM_ITAU_P", "DEAM_IGAIN_P", "DENM_ETAU_P", "DENM_EGAIN_P", "DENM_ITAU_P", "DENM_IGAIN_P",
    "DEGA_IGAIN_P", "DEGA_ITAU_P", "DESC_IGAIN_P", "DESC_ITAU_P", "DENM_NMREV_N", "DEAM_VRES_P",
    "DEAM_HRES_P", "DEAM_NRES_P", "SYSA_VRES_N", "SYSA_VB_P", "SYPD_EXT_N", "SYPD_DLY0_P",
    "SYPD_DLY1_P", "SYPD_DLY2_P", "SYAM_W0_P", "SYAM_W1_P", "SYAM_W2_P", "SYAM_W3_P",
    "SYAW_STDSTR_N", "SYAM_STDW_N")
CORE_SADC_ENABLES = ("SoifMem", "SoifRefectory", "SoadDpi", "SocaDpi", "DeamEdpi", "DeamIdpi",
                     "DenmEdpi", "DenmIdpi", "DegaIdpi", "DescIdpi", "SyW42", "SyW21",
                     "SohoSogain", "SohoDegain")
CHIP_SADC_ENABLES = ("NccfExtinViGroup0Pg1", "NccfCalRefbiasVGroup1Pg1",
                     "NccfCalRefbiasVGroup2Pg1", "NccfExtinViGroup2Pg1", "NccfExtinViGroup0Pg0",
                     "NccfCalRefbiasVGroup1Pg0", "NccfCalRefbiasVGroup2Pg0",
                     "NccfExtinViGroup2Pg0")
CORE_SWITCHES = ("enableSyawStdbufAn", "enablePulseExtenderMonitor1",
                 "enablePulseExtenderMonitor2")
CHIP_SWITCHES = ("enablePg0ReferenceMonitor", "enablePg1ReferenceMonitor",
                 "paramGen0Powerdown", "paramGen1Powerdown")
BIOAMP_MONITORS = ("monitorChannelThuc", "monitorChannelThdc", "monitorChannelQfruc",
                   "monitorChannelOruc", "monitorChannelOsuc", "monitorChannelOauc")


def numbered(items) -> dict:
    """cereal's fixed-size array: {"value0": a, "value1": b, ...}."""
    return {f"value{k}": item for k, item in enumerate(items)}


def bits(value: int, count: int) -> dict:
    return numbered([bool((int(value) >> k) & 1) for k in range(count)])


def parameter(name: str, coarse: int = 0, fine: int = 0) -> dict:
    kind = name[-1]
    return {"type": TYPE_CODES[kind], "coarseValue": int(coarse), "fineValue": int(fine),
            "_address": 0, "_cookie": 0, "_initialType": INITIAL_TYPE[kind],
            "_switchableType": name.endswith("_V")}


def parameter_map(codes: dict[str, tuple[int, int]]) -> list:
    """Every core parameter, in CORE_PARAMETER_NAMES order: `codes` {name: (coarse, fine)},
    the others (0, 0)."""
    unknown = set(codes) - set(CORE_PARAMETER_NAMES)
    if unknown:
        raise KeyError(f"not a core parameter of the layout: {sorted(unknown)}")
    return [{"key": name, "value": parameter(name, *codes.get(name, (0, 0)))}
            for name in CORE_PARAMETER_NAMES]


def synapse(dendrite: int = 0, mask: int = 0, tag: int = 0) -> dict:
    return {"dendrite": int(dendrite), "stp": False, "weight": bits(mask, MASK_BITS),
            "preciseDelay": False, "mismatchedDelay": False, "tag": int(tag)}


def destination(core_mask: int = 0, x_hop: int = 0, y_hop: int = 0, tag: int = 0) -> dict:
    return {"core": bits(core_mask, CORES_PER_CHIP), "xHop": int(x_hop), "yHop": int(y_hop),
            "tag": int(tag)}


EMPTY_SYNAPSE, EMPTY_DESTINATION = synapse(), destination()


def neuron(synapses: list | None = None, destinations: list | None = None,
           dc: bool = False) -> dict:
    latches: dict[str, Any] = dict.fromkeys(LATCHES, False)
    latches["latchSoDc"] = bool(dc)
    return {"synapses": numbered(synapses or [EMPTY_SYNAPSE] * CAM_SLOTS),
            "destinations": numbered(destinations or [EMPTY_DESTINATION] * DESTINATION_SLOTS),
            **latches}


EMPTY_NEURON = neuron()


def core(neurons: list | None = None, codes: dict | None = None) -> dict:
    """A complete core: 256 neurons (empty where not given), the full parameter map."""
    return {"neurons": numbered(neurons or [EMPTY_NEURON] * NEURONS_PER_CORE),
            "neuronMonitoringOn": False, "monitoredNeuron": 0,
            "parameters": parameter_map(codes or {}),
            "sadcEnables": dict.fromkeys(CORE_SADC_ENABLES, False),
            **dict.fromkeys(CORE_SWITCHES, False), "_id": 0, "_cookie": 0}


def _vector() -> dict:
    return {"x": 0, "y": 0}


def dvs_interface() -> dict:
    return {"dropEvents": False, "dvsMode": 0, "offEvents": False, "onEvents": False,
            "poolingShift": _vector(), "copyEvents": False, "copyHop": _vector(),
            "davisReqAckBugfixDelay_ns": 0, "origin": _vector(), "max": _vector(),
            "pixelDestinations": {}, "filter": []}


def bioamps() -> dict:
    return {"commonParameters": [], "channelParameters": {}, "paramGen2Powerdown": False,
            "gain": 0, "separateParameters": False, **dict.fromkeys(BIOAMP_MONITORS, False),
            "route": {}}


def chip(cores: list) -> dict:
    """A complete chip around its 4 cores."""
    return {"cores": numbered(cores), "globalParameters": [], "sharedParameters01": [],
            "sharedParameters23": [], "sadcGroupParameters01": {}, "sadcGroupParameters23": {},
            "sadcEnables": dict.fromkeys(CHIP_SADC_ENABLES, False), "dvsIf": dvs_interface(),
            "bioamps": bioamps(), **dict.fromkeys(CHIP_SWITCHES, False)}
