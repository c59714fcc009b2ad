"""--model-stats: what the built model holds, per population, summed over ranks: cells,
sections, segments (compartments), synapses (edge records made into synapses) and NetCons
(those delivering events onto the population's cells: synapses, replay, minis); plus all
NetCons of the model, spike detectors and stimuli included. Logged on rank 0 and kept in
run_summary.json, to compare a model's size with another simulator's or another run's.
"""

import logging

log = logging.getLogger("neurodamus")
COUNTS = ("cells", "sections", "segments", "synapses", "netcons")


def _owner_names(cells) -> dict:
    """hname of each cell's hoc object (and artificial cell) -> population."""
    owners = {}
    for cell in cells:
        for hoc in (getattr(cell, "hoc", None), getattr(cell, "artificial", None)):
            if hoc is not None and hasattr(hoc, "hname"):
                owners[hoc.hname()] = cell.population
    return owners


def _netcon_target_owner(netcon):
    target = netcon.syn()
    if target is None:
        return None
    try:
        segment = target.get_segment()
    except (AttributeError, RuntimeError):
        segment = None
    if segment is not None:
        owner = segment.sec.cell()
        return owner.hname() if owner is not None else None
    return target.hname()


def local_stats(cells, h) -> tuple[dict, int]:
    """({population: {count: n}}, NetCons in this process) for this rank's cells."""
    stats: dict[str, dict[str, int]] = {}
    for cell in cells:
        row = stats.setdefault(cell.population, dict.fromkeys(COUNTS, 0))
        row["cells"] += 1
        row["sections"] += len(cell.sections)
        row["segments"] += sum(int(section.nseg) for section in cell.sections)
        row["synapses"] += len(getattr(cell, "synapses", ()))
    owners = _owner_names(cells)
    netcons = h.List("NetCon")
    for index in range(int(netcons.count())):
        population = owners.get(_netcon_target_owner(netcons.o(index)))
        if population is not None:
            stats[population]["netcons"] += 1
    return stats, int(netcons.count())


def model_stats(cells, h, parallel) -> dict:
    """Collective: {"populations": {population: counts}, "netcons": all} over all ranks;
    logged on rank 0."""
    parts = parallel.allgather(local_stats(cells, h))
    populations: dict[str, dict[str, int]] = {}
    total = 0
    for stats, count in parts:
        total += count
        for population, row in stats.items():
            into = populations.setdefault(population, dict.fromkeys(COUNTS, 0))
            for key in COUNTS:
                into[key] += row[key]
    ordered = dict(sorted(populations.items()))
    if parallel.is_root:
        width = max([10, *map(len, populations)])
        lines = ["Model stats:", f"  {'population':<{width}}" + "".join(f"{k:>12}" for k in COUNTS)]
        for population, row in ordered.items():
            lines.append(f"  {population:<{width}}" + "".join(f"{row[k]:>12}" for k in COUNTS))
        lines.append(f"  NetCons in the model (spike detectors and stimuli included): {total}")
        log.info("\n".join(lines))
    return {"populations": ordered, "netcons": total}
