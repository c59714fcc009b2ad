"""Frozen dataclasses holding everything the later phases need from the configs.

libsonata's typed objects are copied into these once, so that later phases take plain,
immutable values (and tests can build them directly, without files).
"""

from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class RunSettings:
    tstop: float
    dt: float
    random_seed: int
    spike_threshold: float = -30.0
    integration_method: str = "euler"  # euler | crank_nicolson | crank_nicolson_ion
    # Seeds of the random streams by purpose; each stream is keyed by (seed, gid, index).
    stimulus_seed: int = 0
    synapse_seed: int = 0
    minis_seed: int = 0
    ionchannel_seed: int = 0
    dl: float | None = None  # run.dL (um): the longest segment of cells that segment by length


@dataclass(frozen=True)
class Conditions:
    celsius: float = 34.0
    v_init: float = -80.0
    extracellular_calcium: float | None = None  # mM; scales u_syn through u_hill_coefficient
    randomize_gaba_rise_time: bool = False
    spike_location: str = "soma"  # soma | AIS: where the spike detector of each cell sits
    mechanisms: dict = field(default_factory=dict)  # SUFFIX -> {global name: value}
    modifications: tuple = ()  # config.modifications.ModificationSettings, in config order


@dataclass(frozen=True)
class OutputSettings:
    output_dir: Path
    spikes_file: str = "out.h5"
    spikes_sort_order: str = "by_time"  # none | by_id | by_time
    log_file: str = ""  # rank 0's log: relative to output_dir (or absolute); "" for none
    spikes_file_csv: str = ""  # bmtk's CSV copy of the spikes (relative to output_dir); "" none


@dataclass(frozen=True)
class CompartmentSetSettings:
    """A named compartment set: (node_id, section_id, offset) triples of one population,
    sorted and unique (libsonata checks both when it reads the file)."""

    name: str
    population: str
    file: Path
    locations: tuple[tuple[int, int, float], ...]


@dataclass(frozen=True)
class InputSettings:
    """One entry of `inputs`: module-specific parameters are kept in `parameters`.
    Exactly one of `node_set` and `compartment_set` is set."""

    name: str
    module: str
    input_type: str
    node_set: str | None
    delay: float
    duration: float
    parameters: dict = field(default_factory=dict)
    compartment_set: CompartmentSetSettings | None = None


@dataclass(frozen=True)
class NodePopulationSettings:
    name: str
    type: str  # biophysical | virtual | ...
    nodes_file: Path
    morphologies_dir: Path | None
    alternate_morphologies: dict  # format name -> directory
    models_dir: Path | None  # biophysical_neuron_models_dir
    mechanisms_dir: Path | None


@dataclass(frozen=True)
class EdgePopulationSettings:
    name: str
    type: str  # chemical | electrical | ...
    edges_file: Path
    source: str
    target: str


@dataclass(frozen=True)
class CircuitSettings:
    config_file: Path
    node_populations: tuple[NodePopulationSettings, ...]  # in circuit-config order
    edge_populations: tuple[EdgePopulationSettings, ...]
    mechanisms_dirs: tuple[Path, ...]

    def node_population(self, name: str) -> NodePopulationSettings:
        return next(p for p in self.node_populations if p.name == name)


@dataclass(frozen=True)
class Settings:
    config_file: Path
    run: RunSettings
    conditions: Conditions
    output: OutputSettings
    circuit: CircuitSettings
    node_sets_file: Path | None
    node_sets_json: str  # the merged node sets (circuit's, then the simulation's)
    node_set: str | None
    inputs: tuple[InputSettings, ...]
    connection_overrides: tuple = ()  # config.overrides.ConnectionOverride, in order
    target_simulator: str = "NEURON"  # NEURON | CORENEURON (the config's target_simulator)
    reports: tuple = ()  # config.reports.ReportSettings of the enabled reports, by name
    leniencies: tuple[str, ...] = ()  # what was read leniently (another dialect), one line each
    warnings: tuple[str, ...] = ()  # what will run but surely not as meant, one line each
