"""Attaching every configured input to the local cells it targets."""

from dataclasses import dataclass, replace

from ..errors import ConfigError

Site = tuple[int, float]  # (SONATA section id, offset along the section)


@dataclass(frozen=True)
class StimulusContext:
    """What a stimulus may need beyond its own settings: seeds, time step, end of the run,
    and where on the cell it goes.

    `input_index` is the position of the input in the (name-sorted) inputs list; random
    streams are keyed by (stimulus_seed, gid, input_index), never by rank. `sites` is None
    for a node_set target (each module's usual place: the soma centre, or every segment for
    an extracellular field), else the (section id, offset) pairs of a compartment set.
    """

    stimulus_seed: int
    dt: float
    tstop: float
    input_index: int = 0
    sites: tuple[Site, ...] | None = None


def input_targets(input_settings, circuit, cells_by_gid):
    """(cell, sites) for every local cell the input targets, in gid order."""
    compartments = input_settings.compartment_set
    if compartments is None:
        for gid in circuit.target_gids(input_settings.node_set):
            cell = cells_by_gid.get(int(gid))
            if cell is not None:
                yield cell, None
        return
    population = circuit.populations[compartments.population]
    sites_by_node: dict[int, list[Site]] = {}
    for node_id, section_id, offset in compartments.locations:
        if node_id >= population.size:
            raise ConfigError(
                f"compartment set '{compartments.name}' names node {node_id}, but population "
                f"'{population.name}' has {population.size} nodes", file=compartments.file,
                key=f"inputs.{input_settings.name}.compartment_set")
        sites_by_node.setdefault(node_id, []).append((section_id, offset))
    for node_id, sites in sites_by_node.items():
        cell = cells_by_gid.get(int(population.offset + node_id))
        if cell is not None:
            yield cell, tuple(sites)


def attach_inputs(inputs, circuit, cells, h, run_settings) -> int:
    """Create the NEURON objects of every input on the local cells; returns how many
    (input, cell) pairs were attached. Problems with a cell's data raise before the run."""
    from .registry import STIMULUS_MODULES

    cells_by_gid = {cell.gid: cell for cell in cells}
    attached = 0
    for index, input_settings in enumerate(inputs):
        base = StimulusContext(stimulus_seed=run_settings.stimulus_seed, dt=run_settings.dt,
                               tstop=run_settings.tstop, input_index=index)
        stimulus = STIMULUS_MODULES[input_settings.module](input_settings)
        for cell, sites in input_targets(input_settings, circuit, cells_by_gid):
            cell.keep_alive.extend(stimulus.attach(cell, h, replace(base, sites=sites)))
            attached += 1
    return attached
