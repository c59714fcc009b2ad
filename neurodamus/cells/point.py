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

Point neurons may also come as hoc templates (model_template `hoc:Name`, population type
`point_process`), as the reference simulator's Allen point engine builds them: Name.hoc
from the population's biophysical_neuron_models_dir, constructed like an e-model,
Name(node id, morphology dir, morphology file, *extra) (extra: the template's
`Name_NeededAttributes`, else 0), then `re_init_rng(ionchannel_seed)` where the template
has one; the instance keeps its artificial cell in its public objref `pointcell`, which
receives the afferent NetCons and is the spike source. The morphology arguments are the
reference's, though such templates load none: the population's neurolucida-asc alternate
(else h5v1, else morphologies_dir; "" when none) and `<morphology>.asc` (.h5, .swc by that
directory's format; the reference takes the extension of the biophysical population built
before, "asc" when none).
"""

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from ..errors import CircuitError
from ..mechanisms import artificial_cell_names
from ..registry import Registry
from .biophysical import template_arguments
from .hoc_calls import call_hoc, hoc_text
from .record import CellRecord, register_cell
from .templates import find_template, load_template, sample_arguments, template_name

if TYPE_CHECKING:
    from ..circuit.nodes import NodePopulation

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


POINT_MODELS: Registry[str, PointModel] = Registry("point neuron model", "model_template",
                                                   sort_known=False)


def register(name: str, model: PointModel):
    """The artificial cell `nrn:NAME` builds."""
    POINT_MODELS.register(name, model)


register("IntFire1", PointModel("IntFire1", (_time("tau"), _time("refrac", refractory=True))))
register("IntFire2", PointModel("IntFire2", (_time("taum"), _time("taus"),
                                             Parameter("ib", "ib", 1.0, "", None))))
register("IntFire4", PointModel("IntFire4", (_time("taue"), _time("taui1"), _time("taui2"),
                                             _time("taum"))))


def _model_name(model_template: str, population: str, node_id: int) -> str:
    schema, _, name = str(model_template).partition(":")
    if schema != SCHEMA or name not in POINT_MODELS:
        unknown = POINT_MODELS.unknown(model_template, names=lambda n: f"{SCHEMA}:{n}")
        raise CircuitError(f"node {node_id}: {unknown}", population=population)
    return name


class PointCell(CellRecord):
    """One artificial cell, `artificial` (the wrapper's `pp`, or a hoc template's
    `pointcell`), which receives its edges' NetCons (its `synapses` records); `model` is
    its model_template."""

    def __init__(self, gid: int, population: str, node_id: int, model: str, hoc_cell,
                 artificial):
        super().__init__(gid, population, node_id, hoc_cell)
        self.sections: list = []  # no compartments
        self.model = model
        self.artificial = artificial

    def _no_sections(self):
        return CircuitError(
            f"node {self.node_id} (gid {self.gid}) is a point neuron ({self.model}) "
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
    population: "NodePopulation"
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
    values: dict[str, np.ndarray] = {}
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
        cell = PointCell(gid, population.name, int(node_id), f"{SCHEMA}:{local.models[i]}",
                         wrapper, artificial)
        # an artificial cell's NetCon fires on its events; the threshold is not used
        register_cell(h, pc, cell, rank, h.NetCon(artificial, None), run_settings)
        cells.append(cell)
    return cells


# ---------------------------------------------- hoc templates holding an artificial cell

HOC_SCHEMA = "hoc"
POINTCELL = "pointcell"  # the template's public objref holding its artificial cell
# Morphology formats in the reference's order of preference: (alternate name, extension).
_MORPHOLOGY_FORMATS = (("neurolucida-asc", ".asc"), ("h5v1", ".h5"))
_DEFAULT_EXTENSION = ".asc"


@dataclass
class LocalTemplatePoints:
    population: "NodePopulation"
    node_ids: np.ndarray
    templates: list[str]  # template name per node
    template_files: dict[str, Path]
    morphology_dir: str
    morphology_files: list[str]
    extra_args: list[tuple]  # per node: constructor arguments after the morphology


def _morphology_arguments(population, node_ids) -> tuple[str, list[str]]:
    """The morphology directory and per-node file the reference gives the constructor."""
    settings = population.settings
    directory, extension = "", _DEFAULT_EXTENSION
    for name, suffix in _MORPHOLOGY_FORMATS:
        if name in settings.alternate_morphologies:
            directory, extension = str(settings.alternate_morphologies[name]), suffix
            break
    else:
        if settings.morphologies_dir:
            directory, extension = str(settings.morphologies_dir), ".swc"
    if "morphology" not in population.storage.attribute_names:
        return directory, [""] * len(node_ids)
    names = population.attributes(node_ids, ["morphology"])["morphology"]
    return directory, [f"{name}{extension}" for name in names]


def template_point_cell(hoc_cell, template: str, path: Path, population: str,
                        node_id: int, artificial_names: set[str]):
    """The artificial cell in `hoc_cell.pointcell`, or one CircuitError saying what is
    there instead."""
    where = f"node {node_id}: template '{template}' ({path})"
    wanted = (f"a point_process population's hoc templates keep their artificial cell in "
              f"an objref '{POINTCELL}'")
    try:
        cell = getattr(hoc_cell, POINTCELL)
    except (AttributeError, LookupError):
        raise CircuitError(f"{where} has no '{POINTCELL}': {wanted}",
                           population=population) from None
    if cell is None:
        raise CircuitError(f"{where} leaves '{POINTCELL}' unset: {wanted}", population=population)
    mechanism = cell.hname().split("[", 1)[0] if hasattr(cell, "hname") else type(cell).__name__
    if mechanism not in artificial_names:
        raise CircuitError(f"{where}: '{POINTCELL}' is {mechanism}, not an artificial cell "
                           "(a mechanism declared ARTIFICIAL_CELL, e.g. IntFire1)",
                           population=population)
    return cell


def _instantiate(h, pc, local: LocalTemplatePoints, i: int, gid_argument: int):
    name = local.templates[i]
    path = local.template_files[name]
    return call_hoc(pc, f"node {int(local.node_ids[i])}: template {name} ({path}) failed",
                    getattr(h, name), gid_argument, hoc_text(local.morphology_dir),
                    hoc_text(local.morphology_files[i]), *local.extra_args[i],
                    population=local.population.name)


def _release(hoc_cell):
    """Break the template's reference to itself (`CellRef = this`), where it offers
    `clear()`, so that a dropped instance goes."""
    if hasattr(hoc_cell, "clear"):
        hoc_cell.clear()


def check_point_templates(population, node_ids, h, pc) -> LocalTemplatePoints:
    """Every template loads, every node attribute it needs is there, and one instance of
    each (built here and dropped) keeps an artificial cell in `pointcell`."""
    node_ids = np.asarray(node_ids, np.int64)
    settings = population.settings
    values = population.attributes(node_ids, ["model_template"])["model_template"]
    templates = [template_name(t, population.name) for t in values]
    files = {name: find_template(name, settings.models_dir, population.name)
             for name in sorted(set(templates))}
    for name, path in files.items():
        load_template(h, pc, name, path, population.name)
    directory, morphologies = _morphology_arguments(population, node_ids)
    local = LocalTemplatePoints(population, node_ids, templates, files, directory, morphologies,
                                template_arguments(h, population, node_ids, templates))
    artificial_names = artificial_cell_names(h)
    first: dict[str, int] = {}  # template -> its first node
    for i, name in enumerate(templates):
        first.setdefault(name, i)
    for name, i in first.items():
        sample = _instantiate(h, pc, local, i, int(node_ids[i]))
        try:
            template_point_cell(sample, name, files[name], population.name,
                                int(node_ids[i]), artificial_names)
        finally:
            _release(sample)
    return local


def build_point_templates(local: LocalTemplatePoints, h, pc, run_settings, conditions) -> list:
    """One template instance per node (constructed with the node id, as the reference
    does), its gid registered on this rank with NetCon(pointcell, None) as the spike
    source."""
    population = local.population.name
    for name, path in local.template_files.items():
        load_template(h, pc, name, path, population)
    artificial_names = artificial_cell_names(h)
    rank = int(pc.id())
    cells = []
    for i, node_id in enumerate(local.node_ids.tolist()):
        name = local.templates[i]
        hoc_cell = _instantiate(h, pc, local, i, node_id)
        if hasattr(hoc_cell, "re_init_rng"):
            call_hoc(pc, f"node {node_id}: re_init_rng of template {name}",
                     hoc_cell.re_init_rng, float(run_settings.ionchannel_seed),
                     population=population)
        artificial = template_point_cell(hoc_cell, name, local.template_files[name],
                                         population, node_id, artificial_names)
        gid = int(local.population.offset + node_id)
        cell = PointCell(gid, population, node_id, f"{HOC_SCHEMA}:{name}", hoc_cell, artificial)
        register_cell(h, pc, cell, rank, h.NetCon(artificial, None), run_settings)
        cells.append(cell)
    return cells


def point_template_kinds(population, node_ids) -> list[str]:
    """The template of each node: an artificial cell's cost does not depend on the node."""
    values = population.attributes(np.asarray(node_ids, np.int64),
                                   ["model_template"])["model_template"]
    return [template_name(t, population.name) for t in values]


def sample_point_template(population, kind, node_id, h, pc, run_settings):
    """One instance of the template (gid argument -1, no morphology, neutral extra
    arguments; nothing registered): for the dry run."""
    path = find_template(kind, population.settings.models_dir, population.name)
    load_template(h, pc, kind, path, population.name)
    return call_hoc(pc, f"node {node_id}: template {kind} ({path}) failed",
                    getattr(h, kind), -1, "", "", *sample_arguments(h, kind),
                    population=population.name)


def destroy_point_template(h, hoc_cell):
    _release(hoc_cell)


def point_template_synapse(h, hoc_cell, index: int):
    """Afferent edges make no synapse: their NetCons target the artificial cell."""
    return getattr(hoc_cell, POINTCELL)
