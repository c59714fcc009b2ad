"""Point neurons: NEURON's artificial cells IntFire1, IntFire2 and IntFire4, as Allen/bmtk
circuits give them (population type `point_process` or `point_neuron`, model_template
`nrn:IntFire1`, the node type's JSON dynamics flattened into `dynamics_params/<key>`).

Parameters keep bmtk's names and units. bmtk builds only IntFire1, from `tau` and `refrac`
in seconds (x 1000 into NEURON's ms). It has no setter for IntFire2 or IntFire4; theirs are
NEURON's own names, time constants in seconds like IntFire1's: IntFire2 `taum`, `taus`
(s) and `ib` (the constant drive, dimensionless); IntFire4 `taue`, `taui1`, `taui2`,
`taum` (s), which NEURON needs ordered taue < taui1 < taui2 and taum different from all
three (it silently shifts them otherwise, so they are refused here).

The current-based LIFs (NEST's iaf_psc_*: V_th, E_L, C_m, tau_syn, t_ref) that the Dynap-SE
exporter also reads have no NEURON built-in equivalent (IntFire2 is the same LIF without a
refractory period): their `nest:` model_template finds no cell engine and is refused with
one line before anything is built.

A point cell has no sections: anything that needs a membrane location (current or voltage
stimuli, compartment and summation reports, gap junctions, synapses placed on sections)
raises one CircuitError naming the node. Its spikes are the artificial cell's events,
through a NetCon(cell, None) registered with the ParallelContext.
"""

from dataclasses import dataclass

import numpy as np

from ..errors import CircuitError

POINT_MODEL_TYPES = ("point_process", "point_neuron")  # node population types (bmtk's names)
SCHEMA = "nrn"
SECONDS_TO_MS = 1000.0

# Load-balance cost of a point neuron, declared rather than measured. NEURON's
# LoadBalance.cell_complexity counts the work done every time step per segment of each
# mechanism and point process; an artificial cell has no segment and no per-step work at
# all (NEURON updates it analytically in NET_RECEIVE, only when an event arrives), so the
# measure has nothing to count (on a cell without sections it even crashes NEURON 9). Its
# work is delivering events: per afferent connection, rate x dt events per step, each about
# one step of one synapse mechanism (LoadBalance counts NdTmExc as 5 units); at 10 Hz and
# dt 0.025 ms that is 2.5e-4 x 5 = 1.25e-3 units per connection and step. The cell itself
# counts 1 (a zero-area node's worth): never 0, since largest-first balancing puts cells of
# no cost all on one rank. So point neurons of equal in-degree are dealt out evenly over
# the ranks, in-degree decides among unequal ones, and in a mixed circuit they fill the
# gaps that the compartmental cells (hundreds to thousands of units each) leave.
CELL_COST = 1.0
SYNAPSE_COST = 1.25e-3

# Empty wrapper so that `cell.hoc` is a template instance with an (empty) `all` section
# list, as the code that walks a cell's sections expects; the artificial cell is `pp`.
_WRAPPER = "NdPointNeuron"
_WRAPPER_HOC = f"""
begintemplate {_WRAPPER}
public pp, all
objref pp, all
proc init() {{ all = new SectionList() }}
endtemplate {_WRAPPER}
"""


@dataclass(frozen=True)
class Parameter:
    key: str  # dynamics_params/<key> in the nodes file (bmtk's name)
    attribute: str  # the artificial cell's variable
    scale: float  # file unit -> NEURON unit
    unit: str  # the file's unit, for messages
    minimum: float | None = 0.0  # values must be above (time constants) or at least (refrac)
    inclusive: bool = False


@dataclass(frozen=True)
class PointModel:
    mechanism: str
    parameters: tuple[Parameter, ...]

    def problem(self, values: dict) -> str | None:
        """A combination of (NEURON-unit) values that NEURON would not take as given."""
        if self.mechanism == "IntFire4":
            e, i1, i2, m = (values[k] for k in ("taue", "taui1", "taui2", "taum"))
            if not e < i1 < i2:
                return (f"IntFire4 needs taue < taui1 < taui2, got {e / SECONDS_TO_MS:g}, "
                        f"{i1 / SECONDS_TO_MS:g}, {i2 / SECONDS_TO_MS:g} s")
            if m in (e, i1, i2):
                return (f"IntFire4 needs taum ({m / SECONDS_TO_MS:g} s) different from taue, "
                        "taui1 and taui2")
        return None


def _time(key, attribute=None, refractory=False):
    return Parameter(key, attribute or key, SECONDS_TO_MS, "s", 0.0, inclusive=refractory)


POINT_MODELS: dict[str, PointModel] = {}


def register(name: str, model: PointModel):
    POINT_MODELS[name] = model


register("IntFire1", PointModel("IntFire1", (_time("tau"), _time("refrac", refractory=True))))
register("IntFire2", PointModel("IntFire2", (_time("taum"), _time("taus"),
                                             Parameter("ib", "ib", 1.0, "", None))))
register("IntFire4", PointModel("IntFire4", (_time("taue"), _time("taui1"), _time("taui2"),
                                             _time("taum"))))


def _model_name(model_template: str, population: str, node_id: int) -> str:
    schema, _, name = str(model_template).partition(":")
    if schema != SCHEMA or name not in POINT_MODELS:
        known = ", ".join(f"{SCHEMA}:{n}" for n in POINT_MODELS)
        raise CircuitError(f"node {node_id}: model_template '{model_template}' is not a point "
                           f"neuron this driver builds (supported: {known})",
                           population=population)
    return name


class PointCell:
    """One artificial cell: `hoc.pp` (also `artificial`) receives its edges' NetCons."""

    def __init__(self, gid: int, population: str, node_id: int, model: str, hoc_cell):
        self.gid, self.population, self.node_id = gid, population, node_id
        self.sections = []  # no compartments
        self.model = model
        self.hoc = hoc_cell
        self.artificial = hoc_cell.pp
        self.spike_detector = None
        self.synapses = []  # connectivity.Synapse records (point_process: the artificial cell)
        self.gap_junctions = []
        self.modulators = []
        self.keep_alive = []
        self.threshold_current = float("nan")
        self.holding_current = float("nan")
        self.input_resistance = float("nan")
        self.exc_mini_frequency = float("nan")
        self.inh_mini_frequency = float("nan")
        self.position = np.zeros(3)
        self.rotation = np.eye(3)

    def _no_sections(self):
        return CircuitError(
            f"node {self.node_id} (gid {self.gid}) is a point neuron ({SCHEMA}:{self.model}) "
            "without sections: stimuli, reports, gap junctions and synapses that need a "
            "membrane location cannot target it", population=self.population)

    @property
    def soma(self):
        raise self._no_sections()

    @property
    def section_map(self):
        raise self._no_sections()

    def section_index(self, section_id: int) -> int:
        raise self._no_sections()

    def section(self, section_id: int):
        raise self._no_sections()


@dataclass
class LocalPointNodes:
    population: object  # circuit.NodePopulation
    node_ids: np.ndarray
    models: list[str]  # POINT_MODELS key per node
    values: dict  # parameter key -> float array in NEURON units (NaN where the model has none)


def _first_node_with(population, model_name: str) -> int:
    """The population's first node of this model (error path only: reads every node)."""
    storage = population.storage
    templates = np.asarray(storage.get_attribute("model_template", storage.select_all()))
    return int(np.flatnonzero(templates == f"{SCHEMA}:{model_name}")[0])


def check_point_cells(population, node_ids, h, pc) -> LocalPointNodes:
    """Every node's model is known and every parameter it needs is present, finite and in
    range (checked before any cell is built)."""
    node_ids = np.asarray(node_ids, np.int64)
    templates = population.attributes(node_ids, ["model_template"])["model_template"]
    models = [_model_name(t, population.name, int(n)) for t, n in zip(templates, node_ids)]
    available = set(population.storage.dynamics_attribute_names)
    values = {}
    for name in sorted(set(models)):
        model = POINT_MODELS[name]
        mine = np.array([m == name for m in models])
        for parameter in model.parameters:
            if parameter.key not in available:
                raise CircuitError(
                    f"node {_first_node_with(population, name)}: {SCHEMA}:{name} needs "
                    f"dynamics_params/{parameter.key}{_in(parameter)}, which the nodes file "
                    "does not have", population=population.name,
                    file=population.settings.nodes_file)
            column = values.setdefault(parameter.key, np.full(len(node_ids), np.nan))
            read = population.dynamics(node_ids[mine], [parameter.key], {})[parameter.key]
            bad = np.flatnonzero(~np.isfinite(read) | ~_in_range(read, parameter))
            if bad.size:
                node, value = int(node_ids[mine][bad[0]]), float(read[bad[0]])
                raise CircuitError(
                    f"node {node}: {SCHEMA}:{name} needs dynamics_params/{parameter.key}"
                    f"{_in(parameter)}{_range_text(parameter)}, got {value:g}",
                    population=population.name, file=population.settings.nodes_file)
            column[mine] = read * parameter.scale
        for i in np.flatnonzero(mine):
            problem = model.problem({p.key: values[p.key][i] for p in model.parameters})
            if problem:
                raise CircuitError(f"node {int(node_ids[i])}: {problem}",
                                   population=population.name,
                                   file=population.settings.nodes_file)
    return LocalPointNodes(population, node_ids, models, values)


def _in(parameter: Parameter) -> str:
    return f" (in {parameter.unit})" if parameter.unit else ""


def _in_range(values, parameter: Parameter):
    if parameter.minimum is None:
        return np.ones(values.shape, bool)
    if parameter.inclusive:
        return values >= parameter.minimum
    return values > parameter.minimum


def _range_text(parameter: Parameter) -> str:
    if parameter.minimum is None:
        return " (a finite number)"
    return f" {'>=' if parameter.inclusive else '>'} {parameter.minimum:g}"


def _load_wrapper(h):
    if not hasattr(h, _WRAPPER):
        h(_WRAPPER_HOC)


def point_kinds(population, node_ids) -> list[str]:
    """The model (POINT_MODELS key) of each node: an artificial cell's memory does not
    depend on its parameters."""
    node_ids = np.asarray(node_ids, np.int64)
    templates = population.attributes(node_ids, ["model_template"])["model_template"]
    return [_model_name(t, population.name, int(n)) for t, n in zip(templates, node_ids)]


def sample_point_cell(population, kind, node_id, h, pc, run_settings):
    """One artificial cell of the model in its wrapper (NEURON's default parameters; no gid,
    no NetCon): for the dry run, which measures its memory."""
    _load_wrapper(h)
    wrapper = getattr(h, _WRAPPER)()
    wrapper.pp = getattr(h, POINT_MODELS[kind].mechanism)()
    return wrapper


def destroy_point_sample(h, wrapper):
    """Nothing to remove from the model: the artificial cell goes with the last reference."""


def point_sample_synapse(h, wrapper, index: int):
    """Afferent edges of a point neuron make no synapse: their NetCons target the cell."""
    return wrapper.pp


def build_point_cells(local: LocalPointNodes, h, pc, run_settings, conditions) -> list:
    """One artificial cell per node, its gid registered on this rank with NetCon(cell, None)
    as the spike source."""
    _load_wrapper(h)
    rank = int(pc.id())
    population = local.population
    cells = []
    for i, node_id in enumerate(local.node_ids.tolist()):
        model = POINT_MODELS[local.models[i]]
        wrapper = getattr(h, _WRAPPER)()
        wrapper.pp = artificial = getattr(h, model.mechanism)()
        for parameter in model.parameters:
            setattr(artificial, parameter.attribute, float(local.values[parameter.key][i]))
        gid = int(population.offset + node_id)
        cell = PointCell(gid, population.name, int(node_id), local.models[i], wrapper)
        pc.set_gid2node(gid, rank)
        detector = h.NetCon(artificial, None)
        pc.cell(gid, detector)
        cell.spike_detector = detector
        cells.append(cell)
    return cells
