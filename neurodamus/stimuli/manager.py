"""Attaching every configured input to the local cells it targets."""

from dataclasses import dataclass, replace

from ..errors import ConfigError

Site = tuple[int, float]  # (SONATA section id, offset along the section)


@dataclass(frozen=True)
class StimulusContext:
    """What a stimulus may need beyond its own settings: seeds, time step, end of the run,
    and where on the cell it goes.

    The noise modules key their random streams as the reference simulator does, by
    (stimulus_seed, gid, block_index) under NEURON's Random123 global index `random_seed`
    (run.random_seed): `block_index` counts the earlier inputs of the same random family
    (noise; the shot noises; the Ornstein-Uhlenbeck processes) in the config's order,
    those that draw (see Stimulus.draws) -- never the rank or the order cells are built.
    `input_index` is the input's position in that order. The gid is the reference's
    (`reference_gid`: its population offsets, Circuit.reference_offsets). `sites` is None
    for a node_set target (each module's usual place: the soma centre, or every segment for an
    extracellular field), else the (section id, offset) pairs of a compartment set.
    """

    stimulus_seed: int
    dt: float
    tstop: float
    input_index: int = 0
    sites: tuple[Site, ...] | None = None
    random_seed: int = 0
    block_index: int = 0
    reference_gid: int | None = None  # the cell's 0-based gid in the reference; None: cell.gid


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


def block_indices(stimuli) -> list[int]:
    """Each stimulus's position among the earlier ones of its random family that draw
    (0 for those outside any family), as the reference simulator counts them."""
    counts: dict[str, int] = {}
    indices = []
    for stimulus in stimuli:
        family = stimulus.random_family
        indices.append(counts.get(family, 0) if family else 0)
        if family and stimulus.draws():
            counts[family] = counts.get(family, 0) + 1
    return indices


def _check_seeds(run_settings):
    """NEURON's Random123 takes 32-bit ids and global index (the noise modules add up to
    291204 to stimulus_seed)."""
    for key, value in (("run.random_seed", run_settings.random_seed),
                       ("run.stimulus_seed", run_settings.stimulus_seed + 291204)):
        if not 0 <= value < 1 << 32:
            raise ConfigError("too large for NEURON's Random123 (32-bit ids)", key=key)


def attach_inputs(inputs, circuit, cells, h, run_settings) -> int:
    """Create the NEURON objects of every input on the local cells; returns how many
    (input, cell) pairs were attached. Problems with a cell's data raise before the run.
    `inputs` come in the config's order, which keys the noise modules' streams."""
    from .registry import STIMULUS_MODULES

    cells_by_gid = {cell.gid: cell for cell in cells}
    offsets = circuit.reference_offsets()
    stimuli = [STIMULUS_MODULES[settings.module](settings) for settings in inputs]
    if any(stimulus.random_family for stimulus in stimuli):
        _check_seeds(run_settings)
    attached = 0
    for index, (stimulus, block) in enumerate(zip(stimuli, block_indices(stimuli))):
        base = StimulusContext(stimulus_seed=run_settings.stimulus_seed, dt=run_settings.dt,
                               tstop=run_settings.tstop, input_index=index,
                               random_seed=run_settings.random_seed, block_index=block)
        for cell, sites in input_targets(stimulus.settings, circuit, cells_by_gid):
            context = replace(base, sites=sites,
                              reference_gid=offsets[cell.population] + cell.node_id)
            cell.keep_alive.extend(stimulus.attach(cell, h, context))
            attached += 1
    return attached
