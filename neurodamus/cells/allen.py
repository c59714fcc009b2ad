"""Allen Institute biophysical cells, built as the reference simulator (BioNet) builds them:
`model_template` `ctdb:Biophys1.hoc` (a Cell Types JSON names the parameters) or
`nml:Cell_N.cell.nml` (a NeuroML2 file holds them).

A cell is our hoc template NdAllenCell (a Biophys1 of our own writing): the node's SWC
read by NEURON's Import3d into soma, axon, dend, apic and the lists all, somatic, axonal,
basal, apical. Then, as BioNet does:
- `nml:` cells get the perisomatic axon stub, then the NeuroML parameters;
- each `model_processing` step (comma-separated) runs in order: `aibs_perisomatic`
  replaces the axon by the perisomatic stub and sets the JSON parameters, and is skipped
  where the node has no `dynamics_params` JSON (as the NeuroML cells of the Allen examples
  are); `aibs_allactive` replaces the axon by the all-active stub and sets its parameters
  (`aibs_allactive_fullaxon`, bmtk's bio_all_active_sweep step, keeps the full axon);
  `set_extracellular` (or `extracellular`) inserts `extracellular` everywhere. `ctdb:`
  cells without processing keep their morphology and NEURON's defaults. (BioNet's
  `*_directed` variants, which orient the stub by a PCA of the axon, are not supported.)
- with run.dL set, every section gets nseg = 1 + 2 * int(L / (2 dL)); else nseg stays 1;
- the spike detector watches soma[0](0.5) (axon[1](0.5) for conditions.spike_location AIS).

Stubs: two 30 um sections, axon[0](0) on soma[0](0.5) with diameter 1 um (perisomatic),
or on soma[0](1) with the diameters of the first and of the last axon section in `all`, read
while nseg is 1 (all-active); axon[1](0) on axon[0](1). The stubs are appended to `all`, so
they come last.

As in Biophys1, the arrays of kinds a morphology lacks (e.g. `apic` of an interneuron) hold
a deleted section, which NEURON 9 aborts on when it is indexed: go through `all` and the
section lists, or `cell.sections`.

Section ids (edge `afferent_section_id` / `sec_id`) are positions in `all`, as BioNet
numbers them: soma, the axon (when not replaced), dend, apic in Import3d's order, then the
stubs. `cell.sections` is that list, so soma stays first.

Morphologies are looked up as BioNet does: morphologies_dir/<morphology>, and with ".swc"
appended when that file does not exist and the name has no such extension.
"""

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from ..errors import CircuitError
from ..mechanisms import WHERE_MECHANISMS_COME_FROM, defined_mechanisms
from ..registry import Registry
from . import import3d_cache
from .allen_biophysics import (
    Program,
    allactive_program,
    apply_program,
    extracellular_program,
    neuroml_program,
    perisomatic_program,
    section_kind,
)
from .biophysical import BiophysicalCell, placements
from .hoc_calls import call_hoc, hoc_text
from .neuroml import read_cell_biophysics
from .record import register_cell
from .sections import SectionMap

if TYPE_CHECKING:
    from ..circuit.nodes import NodePopulation

TEMPLATE = "NdAllenCell"
CTDB_TEMPLATES = ("Biophys1", "Biophys1.hoc")  # the names BioNet registers for ctdb:
STUB_LENGTH = 30.0  # um, each of the two axon stub sections
PERISOMATIC_STUB_DIAMETER = 1.0  # um
SWC_KINDS = {1: "soma", 2: "axon", 3: "dend", 4: "apic"}

_TEMPLATE_CODE = f"""
begintemplate {TEMPLATE}
public gid, soma, axon, dend, apic, all, somatic, axonal, basal, apical
create soma[1], axon[1], dend[1], apic[1]
objref all, somatic, axonal, basal, apical, this

// {TEMPLATE}(gid, swc_path): the SWC's sections inside this cell, by Import3d.
// The arrays of kinds the morphology lacks hold a deleted section: use the lists.
proc init() {{ localobj reader, builder
    gid = $1
    all = new SectionList()
    somatic = new SectionList()
    axonal = new SectionList()
    basal = new SectionList()
    apical = new SectionList()
    forall delete_section()
    reader = new Import3d_SWC_read()
    reader.quiet = 1
    reader.input($s2)
    builder = new Import3d_GUI(reader, 0)
    builder.instantiate(this)
}}
endtemplate {TEMPLATE}
"""


@dataclass(frozen=True)
class Processor:
    """A `model_processing` step: the axon stub it makes (or None) and its program."""

    axon: str | None  # perisomatic | allactive
    compile: Callable[..., Program]  # (params dict or None, JSON file or None, fail)
    params: str  # the node's JSON: "required", "skip" the step without one (BioNet's
    # aibs_perisomatic does nothing then), or "unused"


PROCESSORS: Registry[str, Processor] = Registry("model_processing step", "model_processing")
PROCESSORS.register("aibs_perisomatic", Processor("perisomatic", perisomatic_program, "skip"))
PROCESSORS.register("aibs_allactive", Processor("allactive", allactive_program, "required"))
# bio_all_active_sweep's own step: the all-active parameters on the full axon
# the same stubs given 3-D points along the morphology's axon direction (directed_stubs)
PROCESSORS.register("aibs_perisomatic_directed",
                    Processor("perisomatic_directed", perisomatic_program, "skip"))
PROCESSORS.register("aibs_allactive_directed",
                    Processor("allactive_directed", allactive_program, "required"))
PROCESSORS.register("aibs_allactive_fullaxon", Processor(None, allactive_program, "required"))
PROCESSORS.register("set_extracellular", Processor(None, extracellular_program, "unused"))
PROCESSORS.register("extracellular", Processor(None, extracellular_program, "unused"))


@dataclass(frozen=True)
class Recipe:
    """What turns a loaded morphology into the cell: ("axon", style) and ("program",
    Program) steps, in order."""

    description: str  # the model_template and files, for error messages
    steps: tuple

    @property
    def replaces_axon(self) -> bool:
        return any(kind == "axon" for kind, _ in self.steps)

    @property
    def allactive_axon(self) -> bool:
        return any(kind == "axon" and step.startswith("allactive") for kind, step in self.steps)

    @property
    def directed_axon(self) -> bool:
        """The stubs follow the morphology's axon, which must be there."""
        return any(kind == "axon" and step.endswith("_directed") for kind, step in self.steps)


@dataclass
class LocalAllenNodes:
    """The Allen cells of one population that this rank builds."""

    population: "NodePopulation"
    node_ids: np.ndarray
    recipes: list  # per node: Recipe
    morphologies: list  # per node: Path of the SWC
    threshold_current: np.ndarray
    holding_current: np.ndarray
    positions: np.ndarray | None = None
    rotations: np.ndarray | None = None


class AllenCell(BiophysicalCell):
    """A BiophysicalCell whose section ids are BioNet's (positions in `all`)."""

    def __init__(self, gid: int, population: str, node_id: int, hoc_cell):
        super().__init__(gid, population, node_id, hoc_cell)
        self.section_map = bionet_section_map(hoc_cell)
        self.sections = self.section_map.sections


def bionet_section_map(hoc_cell) -> SectionMap:
    """Section ids = positions in `all`; kinds as runs of consecutive sections."""
    sections = list(hoc_cell.all)
    kinds: list[str] = []
    counts: list[int] = []
    for section in sections:
        kind = section_kind(section)
        if kinds and kinds[-1] == kind:
            counts[-1] += 1
        else:
            kinds.append(kind)
            counts.append(1)
    return SectionMap(tuple(kinds), tuple(counts), tuple(counts), sections)


def load_template(h):
    if not hasattr(h, TEMPLATE):
        h.load_file("import3d.hoc")
        h(_TEMPLATE_CODE)


# ---------------------------------------------------------------------------------- check


def check_allen_cells(population, node_ids, h, pc) -> LocalAllenNodes:
    """Read the nodes in bulk; find and parse every distinct template, JSON and morphology
    once; try each distinct recipe on a scratch section (mechanisms and variables exist)."""
    node_ids = np.asarray(node_ids)
    templates, morphology_names, processing, params_files = _node_columns(population, node_ids)
    checker = _Checker(population, h)

    recipes = {}
    for i, key in enumerate(zip(templates, processing, params_files)):
        if key not in recipes:
            recipes[key] = checker.recipe(*key, node_id=int(node_ids[i]))
    morphologies = {}
    for i, name in enumerate(morphology_names):
        if name not in morphologies:
            morphologies[name] = checker.morphology(name, node_id=int(node_ids[i]))
    checked = set()
    for i, key in enumerate(zip(templates, processing, params_files)):
        pair = (key, morphology_names[i])
        if pair not in checked:
            checked.add(pair)
            checker.fits(recipes[key], *morphologies[morphology_names[i]], int(node_ids[i]))
    load_template(h)
    dynamics = population.dynamics(
        node_ids, ["threshold_current", "holding_current"],
        defaults={"threshold_current": np.nan, "holding_current": np.nan})
    positions, rotations = placements(population, node_ids)
    return LocalAllenNodes(
        population, node_ids,
        [recipes[key] for key in zip(templates, processing, params_files)],
        [morphologies[name][0] for name in morphology_names],
        dynamics["threshold_current"], dynamics["holding_current"], positions, rotations)


def _node_columns(population, node_ids) -> tuple[list, list, list, list]:
    """model_template, morphology, model_processing and dynamics_params_file of the nodes,
    read in bulk ("" where the population has no such attribute)."""
    count = len(node_ids)
    available = set(population.storage.attribute_names)
    optional = [n for n in ("model_processing", "dynamics_params_file") if n in available]
    values = population.attributes(node_ids, ["model_template", "morphology", *optional])
    return ([str(v) for v in values["model_template"]], [str(v) for v in values["morphology"]],
            [str(v) for v in values.get("model_processing", [""] * count)],
            [str(v) for v in values.get("dynamics_params_file", [""] * count)])


def allen_kinds(population, node_ids) -> list[tuple[str, str, str, str]]:
    """(model_template, morphology, model_processing, dynamics_params_file) of each node:
    what decides the cell that build_allen_cells makes."""
    return list(zip(*_node_columns(population, np.asarray(node_ids))))


class _Checker:
    """Parses each distinct file once; each problem is one CircuitError naming the file,
    the population and the first node that uses it."""

    def __init__(self, population, h):
        self.population, self.h = population, h
        self.settings = population.settings
        self.nml = {}  # file name -> Program
        self.json = {}  # file name -> dict
        self.programs = {}  # (file name, processor) -> Program
        self.tried = set()  # recipes run on scratch sections
        self.known_mechanisms = None

    def fail(self, node_id, message, file=None):
        return CircuitError(f"node {node_id}: {message}", population=self.population.name,
                            file=file)

    def _models_file(self, name, node_id, what) -> Path:
        models_dir = self.settings.models_dir
        if models_dir is None:
            raise self.fail(node_id, f"{what} '{name}' needs "
                                     "components.biophysical_neuron_models_dir")
        path = Path(models_dir) / name
        if not path.is_file():
            raise self.fail(node_id, f"{what} not found", file=path)
        return path

    def recipe(self, model_template, processing, params_file, node_id) -> Recipe:
        schema, _, name = model_template.partition(":")
        steps = []
        if schema == "ctdb":
            if name not in CTDB_TEMPLATES:
                raise self.fail(node_id, f"model_template '{model_template}': ctdb cells are "
                                         f"{' or '.join('ctdb:' + t for t in CTDB_TEMPLATES)}")
        elif schema == "nml":
            steps += [("axon", "perisomatic"), ("program", self._nml(name, node_id))]
        else:
            raise self.fail(node_id, f"model_template '{model_template}' is not ctdb: or nml:")
        params = self._json(params_file, node_id) if params_file else None
        for step in (s.strip() for s in processing.split(",")) if processing else []:
            processor = PROCESSORS.lookup(step, lambda message: self.fail(node_id, message))
            if params is None and processor.params == "skip":
                continue
            if params is None and processor.params == "required":
                raise self.fail(node_id, f"model_processing '{step}' needs a dynamics_params "
                                         "JSON file, the node has none")
            if processor.axon is not None:
                steps.append(("axon", processor.axon))
            steps.append(("program", self._program(params_file, params, step, node_id)))
        description = ", ".join(part for part in (
            model_template, f"model_processing '{processing}'" if processing else "",
            f"dynamics_params {params_file}" if params_file else "") if part)
        return Recipe(description, tuple(steps))

    def _nml(self, name, node_id) -> Program:
        if name not in self.nml:
            path = self._models_file(name, node_id, "NeuroML cell file")
            self.nml[name] = neuroml_program(
                read_cell_biophysics(path, self.population.name, context=f"node {node_id}: "))
        return self.nml[name]

    def _json(self, name, node_id) -> dict:
        if name not in self.json:
            path = self._models_file(name, node_id, "dynamics_params file")
            try:
                params = json.loads(path.read_text())
            except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
                raise self.fail(node_id, f"not a JSON file: {error}", file=path) from None
            if not isinstance(params, dict):
                raise self.fail(node_id, "not a JSON object", file=path)
            self.json[name] = params
        return self.json[name]

    def _program(self, name, params, processor, node_id) -> Program:
        if PROCESSORS[processor].params == "unused":
            name, params = "", None
        if (name, processor) not in self.programs:
            path = Path(self.settings.models_dir) / name if name else None

            def fail(message):
                return self.fail(node_id, f"{processor} parameters: {message}", file=path)

            self.programs[(name, processor)] = PROCESSORS[processor].compile(params, path, fail)
        return self.programs[(name, processor)]

    def morphology(self, name, node_id) -> tuple[Path, frozenset]:
        morph_dir = self.settings.morphologies_dir
        if morph_dir is None:
            raise self.fail(node_id, f"morphology '{name}' needs components.morphologies_dir")
        path = find_morphology(Path(morph_dir), name)
        if path is None:
            raise self.fail(node_id, f"morphology '{name}' not found", file=Path(morph_dir) / name)
        try:
            kinds = swc_kinds(path)
        except ValueError as error:
            raise self.fail(node_id, f"morphology is not a readable SWC file: {error}",
                            file=path) from None
        return path, kinds

    def fits(self, recipe: Recipe, path: Path, kinds: frozenset, node_id: int):
        """The recipe can build this morphology: a soma, an axon for the all-active stub,
        a cm for each kind of a perisomatic JSON; then, once per recipe, its operations run
        on scratch sections."""
        if "soma" not in kinds:
            raise self.fail(node_id, "morphology has no soma (SWC type 1)", file=path)
        if recipe.allactive_axon and "axon" not in kinds:
            raise self.fail(node_id, f"{recipe.description}: the all-active axon stub takes "
                                     "its diameters from the morphology's axon; it has none",
                            file=path)
        if recipe.directed_axon and "axon" not in kinds:
            raise self.fail(node_id, f"{recipe.description}: the directed axon stubs follow "
                                     "the morphology's axon; it has none", file=path)
        cell_kinds = set(kinds) | ({"axon"} if recipe.replaces_axon else set())
        for kind, step in recipe.steps:
            if kind == "program" and step.covers is not None and not cell_kinds <= step.covers:
                missing = ", ".join(sorted(cell_kinds - step.covers))
                raise self.fail(node_id, f"gives no cm for section kind {missing}, which "
                                         f"the cell has (morphology {path})", file=step.source)
        if recipe not in self.tried:
            self.tried.add(recipe)
            self._try(recipe, node_id)

    def _try(self, recipe: Recipe, node_id: int):
        if self.known_mechanisms is None:
            self.known_mechanisms = defined_mechanisms(self.h, kinds=(0,))
        for kind, program in recipe.steps:
            missing = (sorted(program.mechanisms() - self.known_mechanisms)
                       if kind == "program" else [])
            if missing:
                raise self.fail(node_id, f"mechanism '{missing[0]}' is not loaded; compile or "
                                         f"load it with {WHERE_MECHANISMS_COME_FROM}",
                                file=program.source)
        for section_type in ("soma", "axon", "dend", "apic"):
            scratch = self.h.Section(name=section_type)
            try:
                for kind, program in recipe.steps:
                    if kind == "program":
                        apply_program(self.h, program, [scratch],
                                      lambda message, f=program.source: self.fail(
                                          node_id, message, file=f))
            finally:
                del scratch


def find_morphology(morph_dir: Path, name: str) -> Path | None:
    """BioNet's lookup: morphologies_dir/name, else with '.swc' appended."""
    path = morph_dir / name
    if not path.exists() and not name.endswith(".swc"):
        path = morph_dir / f"{name}.swc"
    return path if path.is_file() else None


def swc_kinds(path: Path) -> frozenset:
    """The section kinds of an SWC file; ValueError for a malformed row or a point type
    outside 1-4 (Biophys1 cells have no arrays for other types)."""
    kinds = set()
    with open(path, encoding="utf-8", errors="replace") as stream:
        for number, line in enumerate(stream, 1):
            fields = line.split("#", 1)[0].split()
            if not fields:
                continue
            try:
                if len(fields) < 7:
                    raise ValueError
                point_type = int(float(fields[1]))
                [float(v) for v in fields[2:7]]
            except ValueError:
                raise ValueError(f"line {number} is not 'id type x y z radius parent'") from None
            if point_type not in SWC_KINDS:
                raise ValueError(f"line {number} has point type {point_type} (known: 1 soma, "
                                 "2 axon, 3 dend, 4 apic)")
            kinds.add(SWC_KINDS[point_type])
    if not kinds:
        raise ValueError("no points")
    return frozenset(kinds)


# ---------------------------------------------------------------------------------- build


def replace_axon(h, hoc_cell, style: str, define_shape: bool = True):
    """BioNet's axon stubs (fix_axon_peri / fix_axon_allactive), see the module docstring.
    NEURON's define_shape (3-d points for the stubs) walks every section of the model:
    a caller that replaces many axons passes False and calls it once at the end."""
    axonal = list(hoc_cell.axonal)
    points = directed_stubs(h, hoc_cell) if style.endswith("_directed") else None
    if style.startswith("allactive"):
        diameters = [axonal[0].diam, axonal[0].diam]
        for section in hoc_cell.all:
            if section_kind(section) == "axon":
                diameters[1] = section.diam
        parent_x = 1.0
    else:
        diameters = [PERISOMATIC_STUB_DIAMETER] * 2
        parent_x = 0.5
    for section in axonal:
        h.delete_section(sec=section)
    h.execute("create axon[2]", hoc_cell)
    stubs = [hoc_cell.axon[0], hoc_cell.axon[1]]
    for section, diameter in zip(stubs, diameters):
        section.L = STUB_LENGTH
        section.diam = diameter
        hoc_cell.axonal.append(sec=section)
        hoc_cell.all.append(sec=section)
    stubs[0].connect(hoc_cell.soma[0](parent_x), 0)
    stubs[1].connect(stubs[0](1), 0)
    if points is not None:
        for section, diameter, (begin, end) in zip(stubs, diameters, points):
            for point in (begin, end):
                h.pt3dadd(*map(float, point), diameter, sec=section)
            section.L = STUB_LENGTH
    if define_shape:
        h.define_shape()


def directed_stubs(h, hoc_cell) -> list:
    """bmtk's *_directed stubs: ((begin, end) of axon[0], of axon[1]), 30 um each from the
    soma's last 3-D point along the first principal axis of the soma's middle 3-D point and
    the last axon section's points, pointing from the soma to that section's end."""
    soma = hoc_cell.soma[0]
    count = int(h.n3d(sec=soma))

    def point(section, i):
        return np.array([h.x3d(i, sec=section), h.y3d(i, sec=section), h.z3d(i, sec=section)])

    soma_end, soma_middle = point(soma, count - 1), point(soma, count // 2)
    axon = [s for s in hoc_cell.all if section_kind(s) == "axon"][-1]
    axon_points = np.array([point(axon, i) for i in range(int(h.n3d(sec=axon)))])
    cloud = np.vstack([soma_middle, axon_points])
    direction = np.linalg.svd(cloud - cloud.mean(axis=0))[2][0]
    direction /= np.linalg.norm(direction)
    if np.dot(direction, axon_points[-1] - soma_middle) < 0:
        direction = -direction
    middle = soma_end + STUB_LENGTH * direction
    return [(soma_end, middle), (middle, soma_end + 2 * STUB_LENGTH * direction)]


def segment_by_length(hoc_cell, dl: float | None):
    """BioNet's rule for run.dL: an odd nseg, one segment per 2 dL of length, plus one."""
    if dl is None:
        return
    for section in hoc_cell.all:
        section.nseg = 1 + 2 * int(section.L / (2 * dl))


def _instantiate(h, pc, template, gid: int, node_id: int, recipe: Recipe, morphology: Path,
                 population: str):
    """The morphology, then each recipe step; the stubs get no 3-d points (h.define_shape)."""
    hoc_cell = call_hoc(pc, f"node {node_id}: morphology {morphology} does not load",
                        template, gid, hoc_text(morphology), population=population)
    for kind, step in recipe.steps:
        if kind == "axon":
            replace_axon(h, hoc_cell, step, define_shape=False)
        else:
            def fail(message, source=step.source, node=node_id):
                return CircuitError(f"node {node}: {message}", population=population,
                                    file=source)
            apply_program(h, step, list(hoc_cell.all), fail)
    return hoc_cell


def build_allen_cells(local: LocalAllenNodes, h, pc, run_settings, conditions) -> list:
    """The cells in BioNet's order of operations: morphology, then each recipe step, then
    (once for all cells: see replace_axon) the stubs' 3-d points, then nseg, then the
    spike detector."""
    load_template(h)
    population = local.population.name
    rank = int(pc.id())
    template = getattr(h, TEMPLATE)
    hoc_cells = []
    with import3d_cache.reuse(local.morphologies):  # each file read once on this rank
        for i, node_id in enumerate(local.node_ids):
            gid = int(local.population.offset + node_id)
            hoc_cells.append(_instantiate(h, pc, template, gid, int(node_id), local.recipes[i],
                                          local.morphologies[i], population))
    if any(recipe.replaces_axon for recipe in local.recipes):
        h.define_shape()
    cells = []
    for i, (node_id, hoc_cell) in enumerate(zip(local.node_ids, hoc_cells)):
        gid = int(local.population.offset + node_id)
        segment_by_length(hoc_cell, run_settings.dl)
        cell = AllenCell(gid, population, int(node_id), hoc_cell)
        cell.threshold_current = float(local.threshold_current[i])
        cell.holding_current = float(local.holding_current[i])
        cell.place(local.positions, local.rotations, i)
        register_cell(h, pc, cell, rank, spike_detector(h, cell, conditions.spike_location,
                                                         population), run_settings)
        cells.append(cell)
    return cells


def sample_allen_cell(population, kind, node_id, h, pc, run_settings):
    """One cell of this kind built as build_allen_cells builds it (recipe, stubs, nseg by
    run.dL), after the same checks, with gid -1 and nothing registered."""
    template, morphology, processing, params_file = kind
    checker = _Checker(population, h)
    recipe = checker.recipe(template, processing, params_file, node_id=node_id)
    path, kinds = checker.morphology(morphology, node_id=node_id)
    checker.fits(recipe, path, kinds, node_id)
    load_template(h)
    hoc_cell = _instantiate(h, pc, getattr(h, TEMPLATE), -1, node_id, recipe, path,
                            population.name)
    if recipe.replaces_axon:
        h.define_shape()
    segment_by_length(hoc_cell, run_settings.dl)
    return hoc_cell


def spike_detector(h, cell, location: str, population: str):
    """BioNet's detector: a NetCon on soma[0](0.5); axon[1](0.5) for the AIS."""
    if location == "AIS":
        axon = list(cell.hoc.axonal)
        if len(axon) < 2:
            raise CircuitError(f"node {cell.node_id}: conditions.spike_location AIS needs "
                               f"axon[1], the cell has {len(axon)} axon sections",
                               population=population)
        section = cell.hoc.axon[1]
    else:
        section = cell.hoc.soma[0]
    return h.NetCon(section(0.5)._ref_v, None, sec=section)
