"""Biophysical cells: a hoc template instance built on its morphology, with the driver's own
spike detector (soma or AIS) registered with the ParallelContext.

Checking (templates and morphologies exist) is separate from building, so that every
problem is found before any NEURON object is made.
"""

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from .. import libm
from ..errors import CircuitError
from ..resources import hoc_dir
from . import import3d_cache
from .hoc_calls import call_hoc, hoc_text
from .morphology import find_morphology, readable_morphology
from .record import CellRecord, register_cell
from .sections import RemovedSectionError, SectionMap
from .templates import (
    KEEP_AXON_DEFAULT,
    NEEDED_ATTRIBUTES_SUFFIX,
    find_template,
    load_template,
    needed_attributes,
    sample_arguments,
    template_name,
)

if TYPE_CHECKING:
    from ..circuit.nodes import NodePopulation

log = logging.getLogger("neurodamus")
MINI_FREQUENCIES = ("exc-mini_frequency", "inh-mini_frequency")


@dataclass
class LocalNodes:
    """The cells of one population that this rank builds, with what building them needs."""

    population: "NodePopulation"
    node_ids: np.ndarray
    templates: list[str]
    template_files: dict[str, Path]
    morphologies: list[Path]
    threshold_current: np.ndarray
    holding_current: np.ndarray
    input_resistance: np.ndarray  # NaN where the nodes do not give it
    mini_frequencies: dict  # "exc-mini_frequency"/"inh-mini_frequency" -> array (NaN: absent)
    positions: np.ndarray | None = None  # [N, 3] um: node x, y, z (0 when absent)
    rotations: np.ndarray | None = None  # [N, 3, 3]: node orientation (identity when absent)
    extra_args: list = field(default_factory=list)  # per node: constructor arguments after the
    # morphology (the template's needed node attributes, or the keep-axon default)


class BiophysicalCell(CellRecord):
    """One instantiated cell. `sections` holds its present sections (soma, axon, basal,
    apical, then ais/node/myelin, in array order); `section(id)` resolves a SONATA section
    id, which counts the morphology's original axon (see sections.py)."""

    def __init__(self, gid: int, population: str, node_id: int, hoc_cell):
        super().__init__(gid, population, node_id, hoc_cell)
        self.section_map = SectionMap.of(hoc_cell)
        self.sections = self.section_map.sections

    @property
    def soma(self):
        return self.sections[0]

    def section_index(self, section_id: int) -> int:
        """Position in `sections` of the section with this SONATA id."""
        try:
            return self.section_map.index(section_id)
        except IndexError:
            raise CircuitError(f"section id {section_id} out of range for gid {self.gid} "
                               f"(node {self.node_id}: {self.section_map.id_count} section ids)",
                               population=self.population) from None
        except RemovedSectionError as error:
            raise CircuitError(f"node {self.node_id} (gid {self.gid}): {error}",
                               population=self.population) from None

    def section(self, section_id: int):
        return self.sections[self.section_index(section_id)]


def check_biophysical_cells(population, node_ids, h, pc) -> LocalNodes:
    """Read what the cells need in bulk; check that every template loads and every node
    attribute it needs and every morphology exists."""
    settings = population.settings
    attributes = population.attributes(node_ids, ["model_template", "morphology"])
    dynamics = population.dynamics(
        node_ids, ["threshold_current", "holding_current", "input_resistance"],
        defaults={"threshold_current": np.nan, "holding_current": np.nan,
                  "input_resistance": np.nan})
    optional = [name for name in MINI_FREQUENCIES if name in population.storage.attribute_names]
    minis = population.attributes(node_ids, optional) if optional else {}
    mini_frequencies = {name: np.asarray(minis[name], float) if name in minis
                        else np.full(len(node_ids), np.nan) for name in MINI_FREQUENCIES}
    templates = [template_name(t, population.name) for t in attributes["model_template"]]
    template_files = {name: find_template(name, settings.models_dir, population.name)
                      for name in sorted(set(templates))}
    _load_hoc_helpers(h)
    for name, path in template_files.items():
        load_template(h, pc, name, path, population.name)
    extra_args = template_arguments(h, population, node_ids, templates)
    morphology_files = {name: find_morphology(settings, name)
                        for name in sorted(set(attributes["morphology"]))}
    morphologies = [morphology_files[name] for name in attributes["morphology"]]
    positions, rotations = placements(population, node_ids)
    return LocalNodes(population, np.asarray(node_ids), templates, template_files, morphologies,
                      dynamics["threshold_current"], dynamics["holding_current"],
                      dynamics["input_resistance"], mini_frequencies,
                      positions=positions, rotations=rotations, extra_args=extra_args)


def template_arguments(h, population, node_ids, templates) -> list[tuple]:
    """Per node, the constructor arguments after the morphology: the values of the node
    attributes its template needs (dynamics_params first, then plain attributes), in the
    template's order, else the keep-axon default."""
    dynamics_names = set(population.storage.dynamics_attribute_names)
    plain_names = set(population.storage.attribute_names)
    needs = {name: needed_attributes(h, name) for name in set(templates)}
    columns = {}
    for attribute in sorted({a for names in needs.values() for a in names}):
        users = sorted(name for name, names in needs.items() if attribute in names)
        if attribute in dynamics_names:
            columns[attribute] = population.dynamics(node_ids, [attribute], {})[attribute]
        elif attribute in plain_names:
            columns[attribute] = np.asarray(population.attributes(node_ids, [attribute])[attribute])
        else:
            raise CircuitError(
                f"template '{users[0]}' needs node attribute '{attribute}' (its "
                f"{users[0]}{NEEDED_ATTRIBUTES_SUFFIX}), which the nodes file has neither as "
                f"'dynamics_params/{attribute}' nor as '{attribute}'",
                population=population.name, file=population.settings.nodes_file)
    arguments = []
    for i, name in enumerate(templates):
        names = needs[name]
        if not names:
            arguments.append((KEEP_AXON_DEFAULT,))
        else:
            arguments.append(tuple(_hoc_value(columns[a][i]) for a in names))
    return arguments


def _hoc_value(value):
    return value.item() if isinstance(value, np.generic) else value


def placements(population, node_ids) -> tuple[np.ndarray, np.ndarray]:
    """Node positions and rotation matrices, read in bulk: `orientation_w/x/y/z` (a
    quaternion), else `rotation_angle_{x,y,z}axis` (radians, applied z, then y, then x),
    else no rotation; no x, y, z puts the nodes at the origin."""
    available = set(population.storage.attribute_names)
    count = len(node_ids)
    positions = np.zeros((count, 3))
    if {"x", "y", "z"} <= available:
        values = population.attributes(node_ids, ["x", "y", "z"])
        positions = np.stack([np.asarray(values[a], float) for a in "xyz"], axis=1)
    quaternion = [f"orientation_{a}" for a in "wxyz"]
    angles = [f"rotation_angle_{a}axis" for a in "xyz"]
    if set(quaternion) <= available:
        values = population.attributes(node_ids, quaternion)
        w, x, y, z = (np.asarray(values[name], float) for name in quaternion)
        norm = np.sqrt(w * w + x * x + y * y + z * z)
        w, x, y, z = w / norm, x / norm, y / norm, z / norm
        rotations = np.stack([
            np.stack([1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w)], -1),
            np.stack([2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w)], -1),
            np.stack([2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)], -1),
        ], axis=1)
    elif available & set(angles):
        values = population.attributes(node_ids, sorted(available & set(angles)))
        ax, ay, az = (np.asarray(values.get(name, np.zeros(count)), float) for name in angles)
        rotations = _axis_rotation(ax, 0) @ _axis_rotation(ay, 1) @ _axis_rotation(az, 2)
    else:
        rotations = np.repeat(np.eye(3)[None], count, axis=0)
    return positions, rotations


def _axis_rotation(angles, axis: int) -> np.ndarray:
    """[N, 3, 3] rotations by `angles` about world axis 0 (x), 1 (y) or 2 (z)."""
    c, s = libm.cos(angles), libm.sin(angles)  # the same bits on every CPU
    out = np.repeat(np.eye(3)[None], len(angles), axis=0)
    i, j = (axis + 1) % 3, (axis + 2) % 3  # cyclic order keeps the right-hand rule
    out[:, i, i], out[:, i, j], out[:, j, i], out[:, j, j] = c, -s, s, c
    return out


def _load_hoc_helpers(h):
    import3d_cache.install(h)  # before anything loads NEURON's Import3d
    if not hasattr(h, "nd_load_morphology"):
        h.load_file(hoc_text(hoc_dir() / "nd_morphology.hoc"))


def build_biophysical_cells(local: LocalNodes, h, pc, run_settings, conditions) -> list:
    """Instantiate the cells of `local` and register each gid on this rank with a spike
    detector of the driver's own (the template's connect2target is not used for it)."""
    _load_hoc_helpers(h)
    population = local.population.name
    for name, path in local.template_files.items():
        load_template(h, pc, name, path, population)
    rank = int(pc.id())
    readable = {path: readable_morphology(path) for path in set(local.morphologies)}
    morphologies = [readable[path] for path in local.morphologies]  # h5: converted once
    with import3d_cache.reuse(morphologies) as counts:  # each file read once on this rank
        cells = [_build_cell(local, i, h, pc, rank, morphologies[i], run_settings, conditions)
                 for i in range(len(local.node_ids))]
    log.debug("%s: morphologies read by Import3d %d times, replayed %d times", population,
              counts["read"], counts["replayed"])
    return cells


def _build_cell(local: LocalNodes, i: int, h, pc, rank: int, morphology: Path, run_settings,
                conditions) -> "BiophysicalCell":
    """One cell: the template on its morphology, its node dynamics and placement, its gid
    registered with the driver's spike detector."""
    population = local.population.name
    node_id = local.node_ids[i]
    gid = int(local.population.offset + node_id)
    template = getattr(h, local.templates[i])
    # Published templates seed their stochastic channels from the gid they are given:
    # the node id, as the reference simulator gives it.
    hoc_cell = call_hoc(
        pc, f"node {node_id}: template {local.templates[i]} "
            f"({local.template_files[local.templates[i]]}) failed on morphology {morphology}",
        template, int(node_id), hoc_text(morphology.parent), hoc_text(morphology.name),
        *local.extra_args[i],
        population=population)
    if hasattr(hoc_cell, "re_init_rng"):
        call_hoc(pc, f"node {node_id}: re_init_rng of template {local.templates[i]}",
                 hoc_cell.re_init_rng, float(run_settings.ionchannel_seed),
                 population=population)
    cell = BiophysicalCell(gid, population, int(node_id), hoc_cell)
    cell.threshold_current = float(local.threshold_current[i])
    cell.holding_current = float(local.holding_current[i])
    cell.input_resistance = float(local.input_resistance[i])
    cell.exc_mini_frequency = float(local.mini_frequencies["exc-mini_frequency"][i])
    cell.inh_mini_frequency = float(local.mini_frequencies["inh-mini_frequency"][i])
    cell.place(local.positions, local.rotations, i)
    register_cell(h, pc, cell, rank, spike_detector(h, cell, conditions.spike_location,
                                                     population), run_settings)
    return cell


# ------------------------------------------------- samples (load balancing, dry runs)


def hoc_kinds(population, node_ids) -> list[tuple[str, str]]:
    """(template, morphology) of each node: the template and the morphology decide the cell."""
    values = population.attributes(node_ids, ["model_template", "morphology"])
    return [(template_name(template, population.name), str(morphology))
            for template, morphology in zip(values["model_template"], values["morphology"])]


def sample_biophysical_cell(population, kind, node_id, h, pc, run_settings):
    """One instance of the template on the morphology (gid -1, nothing registered), with
    neutral constructor arguments (templates.sample_arguments)."""
    template, morphology = kind
    settings = population.settings
    _load_hoc_helpers(h)
    path = find_template(template, settings.models_dir, population.name)
    load_template(h, pc, template, path, population.name)
    morphology_file = readable_morphology(find_morphology(settings, morphology))
    return call_hoc(pc, f"node {node_id}: template {template} ({path}) failed on morphology "
                        f"{morphology_file}", getattr(h, template), -1,
                    str(morphology_file.parent), morphology_file.name,
                    *sample_arguments(h, template), population=population.name)


def destroy_sample(h, hoc_cell):
    """Delete the sample's sections: a template that keeps a reference to itself (as
    published ones may, `CellRef = this`) would otherwise leave them in the model."""
    for section in list(hoc_cell.all):
        h.delete_section(sec=section)


def sample_synapse(h, hoc_cell, index: int):
    """A synapse as chemical edges make them, on soma[0](0.5): every fifth inhibitory
    (NdTmInh), the others excitatory (NdTmExc)."""
    return (h.NdTmExc if index % 5 else h.NdTmInh)(hoc_cell.soma[0](0.5))


def spike_detector(h, cell, location: str, population: str):
    """A NetCon watching the voltage at soma[0](1), or at the AIS (axon[1](0.5))."""
    hoc = cell.hoc
    if location == "AIS":
        axon = list(hoc.axon) if hasattr(hoc, "axon") else []
        if len(axon) < 2:
            raise CircuitError(f"node {cell.node_id}: conditions.spike_location AIS needs "
                               f"axon[1], the template has {len(axon)} axon sections",
                               population=population)
        section, x = axon[1], 0.5
    else:
        section, x = hoc.soma[0], 1.0
    return h.NetCon(section(x)._ref_v, None, sec=section)
