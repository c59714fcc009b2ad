"""Attaching every configured input to the local cells it targets."""

from dataclasses import dataclass


@dataclass(frozen=True)
class StimulusContext:
    """What a stimulus may need beyond its own settings: seeds, time step, end of the run.

    `input_index` is the position of the input in the (name-sorted) inputs list; random
    streams are keyed by (stimulus_seed, gid, input_index), never by rank.
    """

    stimulus_seed: int
    dt: float
    tstop: float
    input_index: int = 0


def attach_inputs(inputs, circuit, cells, h, run_settings) -> list:
    """Create the NEURON objects of every input on the local cells; returns how many were attached."""
    from .registry import STIMULUS_MODULES

    cells_by_gid = {cell.gid: cell for cell in cells}
    attached = 0
    for index, input_settings in enumerate(inputs):
        context = StimulusContext(stimulus_seed=run_settings.stimulus_seed, dt=run_settings.dt,
                                  tstop=run_settings.tstop, input_index=index)
        stimulus = STIMULUS_MODULES[input_settings.module](input_settings)
        for population in circuit.populations.values():
            if population.is_virtual:
                continue
            gids = population.gids(circuit.node_set_ids(input_settings.node_set, population))
            for gid in gids:
                cell = cells_by_gid.get(int(gid))
                if cell is not None:
                    cell.keep_alive.extend(stimulus.attach(cell, h, context))
                    attached += 1
    return attached
