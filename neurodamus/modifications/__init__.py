"""Phase 4b, modifications: `conditions.modifications` applied to the cells just built
(TTX, and section_configure assignments on sections, section lists, single sections or
compartment sets), in the order the config lists them.

Settings arrive parsed and checked (config/modifications.py); what only the built cells can
tell (a section index out of range, a variable no selected section has) is found here.
Each rank changes its own cells, then one collective combines what every rank did, so that
all ranks stop with the same message or log the same summary.
"""

import logging

import libsonata

from ..errors import ConfigError
from . import types  # noqa: F401  (registers the types)
from .registry import MODIFICATION_TYPES, Modification, register
from .types import CellError, Outcome

__all__ = ["MODIFICATION_TYPES", "Modification", "apply_modifications", "register"]

log = logging.getLogger("neurodamus")


def apply_modifications(settings, circuit, cells, h, parallel):
    """Apply settings.conditions.modifications to this rank's `cells` (a collective)."""
    modifications = settings.conditions.modifications
    if not modifications:
        return
    by_gid = {cell.gid: cell for cell in cells}
    outcomes, failed = [], False
    for modification in modifications:
        outcome = Outcome()
        outcomes.append(outcome)
        if failed:
            continue  # the run stops anyway; the other ranks still meet us below
        try:
            _apply(modification, circuit, by_gid, h, outcome)
        except CellError as error:
            outcome.error, failed = str(error), True
    gathered = parallel.allgather(outcomes)
    for index, modification in enumerate(modifications):
        _conclude(settings, modification, [ranks[index] for ranks in gathered], parallel.is_root)


def _apply(modification, circuit, by_gid: dict, h, outcome: Outcome):
    kind = MODIFICATION_TYPES[modification.type]()
    if kind.target == "compartment_set":
        compartments = modification.compartment_set
        offset = circuit.populations[compartments.population].offset
        kind.apply(modification, by_gid, offset, h, outcome)
        return
    try:
        gids = circuit.target_gids(modification.node_set)
    except (libsonata.SonataError, RuntimeError) as error:
        raise CellError(f"node set '{modification.node_set}': {error}") from None
    for gid in gids:
        cell = by_gid.get(int(gid))
        if cell is not None:
            outcome.cells += 1
            kind.apply_to_cell(modification, cell, h, outcome)


def _conclude(settings, modification, outcomes: list, is_root: bool):
    """Raise the first rank's error, or make `changed nothing` an error; log on rank 0."""
    name, kind = modification.name, modification.type
    key = f"{modification.key}.section_configure" if modification.statements else modification.key
    errors = [o.error for o in outcomes if o.error]
    if errors:
        raise ConfigError(f"modification '{name}' ({kind}): {errors[0]}",
                          file=settings.config_file, key=key)
    cells = sum(o.cells for o in outcomes)
    changed = sum(o.changed for o in outcomes)
    skipped = sum(o.skipped for o in outcomes)
    unit = "segments" if kind == "compartment_set" else "sections"
    if cells == 0:
        if is_root:
            target = (f"compartment set '{modification.compartment_set.name}'"
                      if modification.compartment_set else f"node set '{modification.node_set}'")
            log.warning("modification '%s' (%s): %s has no simulated cell; nothing changed",
                        name, kind, target)
        return
    if changed == 0:
        lacking = next((o.lacking for o in outcomes if o.lacking), None)
        names = ", ".join(modification.statements.names)
        reason = (f"{lacking}, and no selected {unit[:-1]} has all of {names}" if lacking
                  else f"the cells have no sections in '{modification.statements.where}'")
        raise ConfigError(f"modification '{name}' ({kind}) changes nothing: {reason} (is the "
                          "mechanism inserted there?)", file=settings.config_file, key=key)
    if not is_root:
        return
    note = f" ({skipped} without {', '.join(modification.statements.names)} skipped)" \
        if skipped else ""
    log.info("modification '%s' (%s): %d %s of %d cells%s", name, kind, changed, unit, cells, note)
    if kind == "ttx" and sum(o.ttx_readers for o in outcomes) == 0:
        log.warning("modification '%s' (ttx): no mechanism of these cells reads the ttx ion "
                    "(NEURON's hh does not), so TTX has no effect on them", name)
