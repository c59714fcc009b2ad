"""`lfp`: the local field potential at a set of electrodes as the sum over each cell's
compartments of its membrane current times a precomputed weight; SONATA's `lfp` report
type, as the reference simulator (through CoreNEURON) writes it.

Config: `type: lfp` and `electrodes_file` (no `variable_name`: the variable is always
i_membrane, NEURON's fast membrane current in nA). The electrodes file (HDF5) holds per
population `<population>/node_ids` (the cells it has weights for) and `<population>/offsets`
(CSR: the rows of node_ids[k] are offsets[k] .. offsets[k + 1]), and
`electrodes/<population>/scaling_factors` [rows x electrodes]: one row per compartment of
the cell, in the reference's compartment order (the soma's, then the axonal, basal and
apical sections', each section's segments from x = 0 to 1: CellCompartments' order). A
cell's row count must be its compartment count; a cell the file does not list contributes
nothing (it is not in the report).

Output: a SONATA frame report per population, one node per cell with one element per
electrode (element ids 0 .. electrodes - 1), value sum_s i_membrane(s) x weight(s, e);
units as the reference writes them (mV, for weights in mV/nA). Recorded like every frame
report, so under both solvers and on any rank count.
"""

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import h5py
import numpy as np

from ..errors import CircuitError
from .elements import CellCompartments, CellElements
from .registry import ReportType, register
from .variables import MEMBRANE_CURRENT, ReportVariable

ELECTRODES = "electrodes"


@dataclass(frozen=True)
class ElectrodesFile:
    """The report's electrodes file (read per cell, when the report is set up)."""

    file: str


class ElectrodeWeights:
    """Reads one electrodes file: each population's node ids and row offsets at once, a
    cell's weights on demand."""

    def __init__(self, file: str):
        self.file = file
        self.populations: dict[str, tuple[dict[int, int], np.ndarray]] = {}
        with h5py.File(file, "r") as f:
            for name in f[ELECTRODES]:
                node_ids = np.asarray(f[name]["node_ids"], np.int64)
                offsets = np.asarray(f[name]["offsets"], np.int64)
                self.populations[name] = ({int(n): i for i, n in enumerate(node_ids)}, offsets)

    def weights(self, population: str, node_id: int) -> np.ndarray | None:
        """[compartments x electrodes] of one cell, None where the file does not list it."""
        known = self.populations.get(population)
        if known is None or node_id not in known[0]:
            return None
        index, offsets = known[0][node_id], known[1]
        with h5py.File(self.file, "r") as f:
            factors = f[ELECTRODES][population]["scaling_factors"]
            return np.asarray(factors[offsets[index]:offsets[index + 1], :], float)


@lru_cache(maxsize=8)
def electrode_weights(file: str) -> ElectrodeWeights:
    return ElectrodeWeights(file)


def check_electrodes_file(path: Path) -> str | None:
    """Why the file cannot serve as an electrodes file, or None."""
    if not path.is_file():
        return f"electrodes file {path} not found"
    try:
        with h5py.File(path, "r") as f:
            if ELECTRODES not in f:
                return f"electrodes file {path} has no '{ELECTRODES}' group"
            for name in f[ELECTRODES]:
                factors = f[ELECTRODES][name].get("scaling_factors")
                if name not in f or "node_ids" not in f[name] or "offsets" not in f[name]:
                    return (f"electrodes file {path}: population '{name}' needs {name}/node_ids "
                            f"and {name}/offsets")
                if factors is None or factors.ndim != 2:
                    return (f"electrodes file {path}: {ELECTRODES}/{name}/scaling_factors must be "
                            "a 2-D dataset (compartments x electrodes)")
                offsets = np.asarray(f[name]["offsets"], np.int64)
                if (offsets.size < f[name]["node_ids"].shape[0] + 1
                        or np.any(np.diff(offsets) < 0) or offsets[-1] > factors.shape[0]):
                    return (f"electrodes file {path}: {name}/offsets must hold at least "
                            "node_ids + 1 rising row offsets within the "
                            f"{factors.shape[0]} rows of scaling_factors")
    except OSError as error:
        return f"electrodes file {path} cannot be read: {error}"
    return None


@register("lfp")
class LfpReport(ReportType):
    uses_sections = False  # every compartment of the cells contributes
    names_variable = False  # SONATA forbids variable_name: the variable is i_membrane

    @classmethod
    def parse(cls, tokens, catalogue):
        return [ReportVariable(MEMBRANE_CURRENT, None, "i_membrane_", "nA")], []

    @classmethod
    def default_unit(cls, variables) -> str:
        return "mV"

    @classmethod
    def load_extension(cls, raw: dict, key: str, problems, base_dir: Path):
        file = raw.get("electrodes_file")
        if not isinstance(file, str) or not file:
            problems.add("missing: an lfp report needs its electrodes file (weights per "
                         "compartment and electrode)", key=f"{key}.electrodes_file")
            return None
        path = Path(file) if Path(file).is_absolute() else base_dir / file
        problem = check_electrodes_file(path)
        if problem is not None:
            problems.add(problem, key=f"{key}.electrodes_file")
            return None
        return ElectrodesFile(str(path))

    @classmethod
    def cell_elements(cls, cell, report):
        weights = electrode_weights(report.extension.file).weights(cell.population, cell.node_id)
        if weights is None or weights.shape[1] == 0:
            return None
        segments = CellCompartments(cell).by_section_id()
        if weights.shape[0] != len(segments):
            raise CircuitError(
                f"report '{report.name}': the electrodes file gives {weights.shape[0]} rows of "
                f"weights for node {cell.node_id}, which has {len(segments)} compartments",
                population=cell.population, file=report.extension.file)
        n_electrodes = weights.shape[1]
        refs = [segment._ref_i_membrane_ for _, segment in segments for _ in range(n_electrodes)]
        term_elements = np.tile(np.arange(n_electrodes, dtype=np.int64), len(segments))
        return CellElements(cell.population, cell.node_id,
                            np.arange(n_electrodes, dtype=np.uint32), refs, term_elements,
                            weights.reshape(-1))
