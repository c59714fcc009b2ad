"""Read the point-neuron part of a SONATA circuit: neurons, input channels and edges, as arrays.

Two kinds of neuron are read, decided by `model_template` (`schema:Resource`):

* `IntFire1` (NEURON's): `tau` and `refrac` in seconds, as bmtk gives them and as the
  simulation driver reads them (cells/point.py), x 1000 into ms; threshold 1, no bias, reset 0. Its
  weights are jumps of the membrane state m. It has no synaptic time constant; the chip's
  synapse cannot be instantaneous, so the export gives it INTFIRE1_TAU_SYN_MS.
* anything else: a current-based LIF with an exponential synaptic current, given either
  - in physical units, like NEST's iaf_psc_exp: `tau_m`, `tau_syn` (ms), `V_th`, `E_L`,
    `V_reset` (mV, default E_L), `C_m` (pF), `I_e` (pA, default 0), `t_ref` (ms); a weight is
    the jump of the synaptic current in pA;
  - or dimensionless: `tau_m`, `tau_syn`, `t_ref` (ms), `threshold`, `bias` (default 0),
    `reset` (default 0); a weight is the jump of the synaptic drive s (parameters.py).

Names are matched case-insensitively, in `dynamics_params` first and then as plain node
attributes, and common synonyms are accepted (see SYNONYMS). `node_types.csv` is not read.

Physical LIFs become dimensionless by one voltage unit U (mV) for the whole export:
    threshold = (V_th - E_L) / U,   reset = (V_reset - E_L) / U,   bias = I_e·tau_m / (C_m·U)
    weight    = syn_weight·tau_m / (C_m·U)       (pA -> the jump of s, in units of U)
U defaults to the median of V_th - E_L over those neurons, so a typical threshold is 1 like
IntFire1's. The change of variables is exact: the dimensionless LIF spikes when the mV one does.
"""

from dataclasses import dataclass
from pathlib import Path

import libsonata
import numpy as np

from ...config.loader import open_simulation_config
from .errors import ExportConfigError, NetworkDataError
from .parameters import DEFAULT_T_REF_MS, PARAMETER_NAMES, LifParameters

POINT_MODEL_TYPES = ("point_neuron", "point_process")
INTFIRE1_TAU_SYN_MS = 1.0
DEFAULT_DELAY_MS = 1.0           # NEURON's NetCon default, for edges without `delay`
NEURON_INTFIRE1_DEFAULTS = {"tau": 10.0, "refrac": 5.0}      # ms, where the file has none
INTFIRE1_SECONDS_TO_MS = 1000.0     # bmtk's IntFire1 `tau` and `refrac` are in seconds
SKIPPED_EDGE_TYPES = ("electrical", "synapse_astrocyte", "endfoot", "neuromodulatory")

SYNONYMS = {
    "tau": ("tau", "tau_m", "tau_mem", "taum"),
    "refrac": ("refrac", "t_ref", "tau_ref", "t_refrac", "refractory_period"),
    "tau_m": ("tau_m", "tau_mem", "taum", "tau_membrane"),
    "tau_syn": ("tau_syn", "tau_syn_ex", "tau_syn_e", "tau_s", "taus", "tau_synapse"),
    "t_ref": ("t_ref", "tau_ref", "refrac", "t_refrac", "refractory_period"),
    "V_th": ("v_th", "v_thresh", "v_threshold", "vth"),
    "E_L": ("e_l", "v_rest", "el", "e_leak", "v_leak"),
    "V_reset": ("v_reset", "vreset"),
    "C_m": ("c_m", "cm", "c_mem"),
    "I_e": ("i_e", "i_bias", "bias_current", "ie"),
    "threshold": ("threshold", "theta"),
    "bias": ("bias",),
    "reset": ("reset",),
}


@dataclass(frozen=True)
class SonataConfigs:
    """The opened configs, with the node sets of circuit and simulation merged."""

    path: Path
    simulation: libsonata.SimulationConfig
    circuit: libsonata.CircuitConfig
    node_sets: libsonata.NodeSets | None
    node_sets_file: str | None


@dataclass(frozen=True)
class PointNetwork:
    """Exported neurons (index i), input channels (index k) and the edges between them."""

    population: np.ndarray          # str, per neuron
    node_id: np.ndarray
    kind: np.ndarray                # "IntFire1" or "LIF"
    params: LifParameters           # dimensionless
    input_population: np.ndarray    # str, per input channel
    input_node_id: np.ndarray
    edge_source: np.ndarray         # neuron index, or input channel where edge_from_input
    edge_from_input: np.ndarray
    edge_target: np.ndarray         # neuron index
    edge_weight: np.ndarray         # dimensionless, signed
    edge_delay_ms: np.ndarray
    mv_per_unit: float | None       # U, where physical LIFs were normalised
    notes: tuple[str, ...] = ()     # what the reader assumed or left out

    @property
    def n_neurons(self) -> int:
        return len(self.node_id)

    @property
    def n_inputs(self) -> int:
        return len(self.input_node_id)

    def neuron_name(self, i: int) -> str:
        return f"{self.population[i]}[{self.node_id[i]}]"

    def input_name(self, k: int) -> str:
        return f"{self.input_population[k]}[{self.input_node_id[k]}]"


def open_configs(simulation_config) -> SonataConfigs:
    """Open the simulation and circuit configs through the driver's config dialects (so a
    bmtk config is read as the driver reads it); libsonata's errors become ours, naming the
    file."""
    path = Path(simulation_config)
    if not path.is_file():
        raise ExportConfigError("no such file", file=path)
    simulation = open_simulation_config(path)
    try:
        circuit = libsonata.CircuitConfig.from_file(simulation.network)
    except libsonata.SonataError as error:
        raise ExportConfigError(str(error), file=simulation.network) from None
    # The circuit's node sets first, then the simulation's, which win on a name clash.
    node_sets, files = None, list(dict.fromkeys(
        f for f in (circuit.node_sets_path, simulation.node_sets_file) if f))
    for file in files:
        try:
            loaded = libsonata.NodeSets.from_file(file)
        except libsonata.SonataError as error:
            raise ExportConfigError(str(error), file=file) from None
        if node_sets is None:
            node_sets = loaded
        else:
            node_sets.update(loaded)
    return SonataConfigs(path, simulation, circuit, node_sets, files[-1] if files else None)


def model_type(configs: SonataConfigs, name: str) -> str:
    """The population's model type: its `type` in the circuit config, else its `model_type`."""
    declared = configs.circuit.node_population_properties(name).type
    if declared in (*POINT_MODEL_TYPES, "virtual"):
        return declared
    population = configs.circuit.node_population(name)
    if "model_type" in population.attribute_names:
        values = np.unique(population.get_attribute("model_type", population.select_all()))
        if len(values) == 1:
            return str(values[0])
        raise NetworkDataError(f"mixes model types {sorted(map(str, values))}; split it", name)
    return declared


def _selected_ids(configs: SonataConfigs, name: str, node_set: str | None) -> np.ndarray:
    population = configs.circuit.node_population(name)
    if node_set is None:
        return np.arange(population.size, dtype=np.int64)
    if configs.node_sets is None or node_set not in configs.node_sets.names:
        raise ExportConfigError(f"node set '{node_set}' is not defined",
                                file=configs.node_sets_file, key=node_set)
    try:
        selection = configs.node_sets.materialize(node_set, population)
    except libsonata.SonataError as error:
        raise ExportConfigError(str(error), file=configs.node_sets_file, key=node_set) from None
    return np.asarray(selection.flatten(), dtype=np.int64)


class _AttributeReader:
    """Bulk reads of one population's node attributes by canonical name (synonyms, any case)."""

    def __init__(self, population: libsonata.NodePopulation, ids: np.ndarray):
        self.population = population
        self.selection = libsonata.Selection(ids)
        self.size = len(ids)
        self.dynamics = {n.lower(): n for n in population.dynamics_attribute_names}
        self.plain = {n.lower(): n for n in population.attribute_names}

    def has(self, canonical: str) -> bool:
        return any(n in self.dynamics or n in self.plain for n in SYNONYMS[canonical])

    def read(self, canonical: str, default: float | None = None) -> np.ndarray:
        for name in SYNONYMS[canonical]:
            if name in self.dynamics:
                values = self.population.get_dynamics_attribute(self.dynamics[name], self.selection)
                return self._numbers(values, self.dynamics[name])
            if name in self.plain:
                values = self.population.get_attribute(self.plain[name], self.selection)
                return self._numbers(values, self.plain[name])
        if default is not None:
            return np.full(self.size, float(default))
        raise NetworkDataError(
            f"needs '{canonical}' (any of {', '.join(SYNONYMS[canonical])}, as an attribute or in "
            f"dynamics_params); it has {sorted(self.plain.values())} and dynamics_params "
            f"{sorted(self.dynamics.values())}", self.population.name)

    def _numbers(self, values, name: str) -> np.ndarray:
        try:
            return np.asarray(values, dtype=float)
        except (TypeError, ValueError):
            raise NetworkDataError(f"attribute '{name}' is not numeric",
                                   self.population.name) from None


def _empty_columns(size: int) -> dict:
    nan = np.full(size, np.nan)
    return {key: nan.copy() for key in ("tau_mem_ms", "tau_syn_ms", "t_ref_ms", "threshold", "bias",
                                        "reset", "V_th", "E_L", "V_reset", "C_m", "I_e")}


def _read_population(population: libsonata.NodePopulation, ids: np.ndarray, notes: list) -> dict:
    """Raw columns of one population; physical LIFs keep mV/pA/pF until U is known."""
    name = population.name
    if "model_template" in population.attribute_names:
        templates = np.asarray(population.get_attribute("model_template", libsonata.Selection(ids)))
    else:
        templates = np.full(len(ids), "")
    unique, inverse = np.unique(templates, return_inverse=True)
    intfire = np.array([t.rsplit(":", 1)[-1].lower() == "intfire1" for t in unique],
                       dtype=bool)[inverse.ravel()]
    columns = _empty_columns(len(ids))
    columns["kind"] = np.where(intfire, "IntFire1", "LIF")
    columns["physical"] = np.zeros(len(ids), dtype=bool)
    if intfire.any():
        reader = _AttributeReader(population, ids[intfire])
        for key, default in NEURON_INTFIRE1_DEFAULTS.items():
            if not reader.has(key):
                notes.append(f"population '{name}': IntFire1 without '{key}', NEURON's default "
                             f"{default:g} ms used")
        for key, column in (("tau", "tau_mem_ms"), ("refrac", "t_ref_ms")):
            columns[column][intfire] = (
                reader.read(key) * INTFIRE1_SECONDS_TO_MS if reader.has(key)
                else NEURON_INTFIRE1_DEFAULTS[key])
        columns["tau_syn_ms"][intfire] = INTFIRE1_TAU_SYN_MS
        columns["threshold"][intfire], columns["bias"][intfire] = 1.0, 0.0
        columns["reset"][intfire] = 0.0
    lif = ~intfire
    if lif.any():
        reader = _AttributeReader(population, ids[lif])
        columns["tau_mem_ms"][lif] = reader.read("tau_m")
        columns["tau_syn_ms"][lif] = reader.read("tau_syn")
        if not reader.has("t_ref"):
            notes.append(f"population '{name}': LIF without a refractory period, "
                         f"{DEFAULT_T_REF_MS:g} ms used")
        columns["t_ref_ms"][lif] = reader.read("t_ref", DEFAULT_T_REF_MS)
        if reader.has("V_th"):
            columns["physical"][lif] = True
            columns["V_th"][lif] = reader.read("V_th")
            columns["E_L"][lif] = e_l = reader.read("E_L")
            columns["V_reset"][lif] = reader.read("V_reset") if reader.has("V_reset") else e_l
            columns["C_m"][lif] = reader.read("C_m")
            columns["I_e"][lif] = reader.read("I_e", 0.0)
        elif reader.has("threshold"):
            columns["threshold"][lif] = reader.read("threshold")
            columns["bias"][lif] = reader.read("bias", 0.0)
            columns["reset"][lif] = reader.read("reset", 0.0)
        else:
            raise NetworkDataError(
                f"a LIF ({templates[lif][0] or 'no model_template'}) needs 'V_th' (mV, with E_L "
                f"and C_m) or a dimensionless 'threshold'; it has {sorted(reader.plain.values())}"
                f" and dynamics_params {sorted(reader.dynamics.values())}", name)
    return columns


def _normalise_physical(columns: dict, mv_per_unit: float | None, notes: list):
    """Fill threshold, bias, reset of physical LIFs; returns (U, per-neuron weight scale)."""
    physical = columns["physical"]
    weight_scale = np.ones(len(physical))
    if not physical.any():
        return None, weight_scale
    if mv_per_unit is None:
        mv_per_unit = float(np.median(columns["V_th"][physical] - columns["E_L"][physical]))
        notes.append(f"voltage unit U = {mv_per_unit:g} mV (median V_th - E_L); "
                     "--mv-per-unit changes it")
    if not mv_per_unit > 0:
        raise ExportConfigError(f"the voltage unit must be positive, got {mv_per_unit:g} mV "
                                "(median V_th - E_L); give --mv-per-unit", key="mv_per_unit")
    p = physical
    columns["threshold"][p] = (columns["V_th"][p] - columns["E_L"][p]) / mv_per_unit
    columns["reset"][p] = (columns["V_reset"][p] - columns["E_L"][p]) / mv_per_unit
    to_units = columns["tau_mem_ms"][p] / (columns["C_m"][p] * mv_per_unit)   # pA -> units of U
    columns["bias"][p] = columns["I_e"][p] * to_units
    weight_scale[p] = to_units
    return mv_per_unit, weight_scale


def read_network(configs: SonataConfigs, node_set: str | None = None,
                 mv_per_unit: float | None = None) -> PointNetwork:
    """The point neurons of `node_set` (default: the simulation's, else all) and what feeds them."""
    try:
        return _read_network(configs, node_set, mv_per_unit)
    except libsonata.SonataError as error:
        raise NetworkDataError(f"cannot read the circuit of {configs.path}: {error}") from None


def _read_network(configs: SonataConfigs, node_set: str | None,
                  mv_per_unit: float | None) -> PointNetwork:
    circuit, notes = configs.circuit, []
    node_set = node_set or configs.simulation.node_set or None
    virtual, parts = set(), []
    for name in sorted(circuit.node_populations):
        kind = model_type(configs, name)
        if kind == "virtual":
            virtual.add(name)
            continue
        ids = _selected_ids(configs, name, node_set)
        if not len(ids):
            continue
        if kind not in POINT_MODEL_TYPES:
            notes.append(f"population '{name}' ({kind or 'biophysical'}) is not a point-neuron "
                         "population: left out")
            continue
        columns = _read_population(circuit.node_population(name), ids, notes)
        columns["population"], columns["node_id"] = np.full(len(ids), name, dtype=object), ids
        parts.append(columns)
    if not parts:
        raise ExportConfigError("no point neurons to export"
                                + (f" in node set '{node_set}'" if node_set else ""),
                                file=configs.path, key="node_set" if node_set else None)
    columns = {key: np.concatenate([part[key] for part in parts]) for key in parts[0]}
    mv_per_unit, weight_scale = _normalise_physical(columns, mv_per_unit, notes)
    population = columns["population"].astype(str)
    if (columns["reset"] != 0).any():
        count = int((columns["reset"] != 0).sum())
        notes.append(f"{count} neuron(s) reset away from rest: the chip resets to rest")
    params = LifParameters(**{key: columns[key] for key in PARAMETER_NAMES})
    edges = _read_edges(configs, population, columns["node_id"], virtual, notes)
    source, from_input, target, weight, delay, input_population, input_node_id = edges
    return PointNetwork(
        population=population, node_id=columns["node_id"], kind=columns["kind"].astype(str),
        params=params, input_population=input_population, input_node_id=input_node_id,
        edge_source=source, edge_from_input=from_input, edge_target=target,
        edge_weight=weight * weight_scale[target], edge_delay_ms=delay,
        mv_per_unit=mv_per_unit, notes=tuple(notes))


class IndexLookup:
    """(population, node id) -> row (neuron or input channel), -1 where the node has none."""

    def __init__(self, population: np.ndarray, node_id: np.ndarray):
        self.tables = {}
        for name in np.unique(population):
            where = np.flatnonzero(population == name)
            order = np.argsort(node_id[where])
            self.tables[name] = (node_id[where][order], where[order])

    def __contains__(self, population: str) -> bool:
        return population in self.tables

    def find(self, population: str, ids: np.ndarray) -> np.ndarray:
        if population not in self.tables:
            return np.full(len(ids), -1)
        known, index = self.tables[population]
        at = np.clip(np.searchsorted(known, ids), 0, max(len(known) - 1, 0))
        found = known[at] == ids
        return np.where(found, index[at], -1)


def _edge_attribute(edges: libsonata.EdgePopulation, names, selection, default=None):
    lower = {n.lower(): n for n in edges.attribute_names}
    for name in names:
        if name in lower:
            return np.asarray(edges.get_attribute(lower[name], selection), dtype=float)
    if default is None:
        raise NetworkDataError(f"edges have no '{names[0]}' attribute "
                               f"(they have {sorted(edges.attribute_names)})", edges.name)
    return np.full(selection.flat_size, float(default))


def _read_edges(configs: SonataConfigs, population, node_id, virtual: set, notes: list):
    circuit, lookup = configs.circuit, IndexLookup(population, node_id)
    chunks, dropped = [], {}
    for name in sorted(circuit.edge_populations):
        if circuit.edge_population_properties(name).type in SKIPPED_EDGE_TYPES:
            continue
        edges = circuit.edge_population(name)
        if edges.target not in lookup:
            continue
        selection = edges.select_all()
        target_ids = np.asarray(edges.target_nodes(selection), dtype=np.int64)
        target = lookup.find(edges.target, target_ids)
        keep = target >= 0
        if not keep.any():
            continue
        source_ids = np.asarray(edges.source_nodes(selection), dtype=np.int64)
        weight = _edge_attribute(edges, ("syn_weight", "weight"), selection)
        if "nsyns" in edges.attribute_names:        # bmtk's synapse count per edge
            weight = weight * _edge_attribute(edges, ("nsyns",), selection)
        delay = _edge_attribute(edges, ("delay",), selection, DEFAULT_DELAY_MS)
        if edges.source in virtual:
            source, from_input = source_ids, True
        else:
            source, from_input = lookup.find(edges.source, source_ids), False
            outside = keep & (source < 0)
            if outside.any():
                dropped[name] = int(outside.sum())
            keep &= source >= 0
        chunks.append((edges.source, from_input, source[keep], target[keep], weight[keep],
                       delay[keep]))
    for name, count in dropped.items():
        notes.append(f"edge population '{name}': {count} edge(s) from neurons outside the export "
                     "left out")
    # Input channels: every virtual node with an edge into the export, by population then id.
    input_ids: dict[str, np.ndarray] = {}
    for pop, is_input, src, *_ in chunks:
        if is_input:
            input_ids[pop] = np.union1d(input_ids.get(pop, np.zeros(0, np.int64)), src)
    names = sorted(input_ids)
    offsets = dict(zip(names, np.cumsum([0] + [len(input_ids[p]) for p in names])))
    sources: list[np.ndarray] = []
    from_inputs: list[np.ndarray] = []
    targets: list[np.ndarray] = []
    weights: list[np.ndarray] = []
    delays: list[np.ndarray] = []
    for pop, is_input, src, tgt, w, d in chunks:
        sources.append(offsets[pop] + np.searchsorted(input_ids[pop], src) if is_input else src)
        from_inputs.append(np.full(len(src), is_input))
        targets.append(tgt)
        weights.append(w)
        delays.append(d)
    input_population = np.array([p for p in names for _ in input_ids[p]], dtype=str)
    input_node_id = np.concatenate([input_ids[p] for p in names] or [np.zeros(0)])

    def joined(parts, dtype):
        return np.concatenate(parts).astype(dtype) if parts else np.zeros(0, dtype=dtype)

    return (joined(sources, np.int64), joined(from_inputs, bool), joined(targets, np.int64),
            joined(weights, float), joined(delays, float), input_population,
            input_node_id.astype(np.int64))
