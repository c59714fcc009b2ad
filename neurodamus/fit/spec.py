"""The fit spec (YAML or JSON): read and checked whole before anything is simulated.

Every problem is collected (config.checks.ProblemList) and raised as one ConfigError naming
the spec file and the key, so the CLI prints one `neurodamus: error:` line. Paths are
relative to the spec's directory. Which `apply` kinds, losses and optimisers exist is
decided by their registries (parameters.APPLY_KINDS, targets.LOSSES, optimisers.OPTIMISERS).
"""

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from ..config.checks import ProblemList
from ..errors import ConfigError
from ..values import is_finite_number

TOP_KEYS = {"simulation_config", "output_dir", "parameters", "targets", "optimiser",
            "ranks_per_candidate"}
PARAMETER_KEYS = {"name", "bounds", "scale", "initial", "apply"}
TARGET_KEYS = {"name", "type", "loss", "weight", "file", "report", "population", "window",
               "tau", "rates", "node_ids"}
OPTIMISER_KEYS = {"method", "budget", "population", "sigma", "seed", "options"}
TARGET_TYPES = {"report": "rms", "spikes": "van_rossum", "rates": "rate_error"}
SCALES = ("linear", "log")


@dataclass(frozen=True)
class Parameter:
    """One fitted value: its bounds, the scale the optimiser sees it on (every optimiser
    works on [0, 1] per parameter), and where it applies (`kind` of parameters.APPLY_KINDS
    with that kind's fields)."""

    name: str
    low: float
    high: float
    scale: str
    initial: float
    kind: str
    where: dict[str, Any]
    key: str  # parameters[i], for messages

    def to_unit(self, value: float) -> float:
        if self.scale == "log":
            return (math.log(value) - math.log(self.low)) / (math.log(self.high)
                                                               - math.log(self.low))
        return (value - self.low) / (self.high - self.low)

    def from_unit(self, unit: float) -> float:
        unit = min(1.0, max(0.0, float(unit)))
        if self.scale == "log":
            return math.exp(math.log(self.low) + unit * (math.log(self.high)
                                                         - math.log(self.low)))
        return self.low + unit * (self.high - self.low)


@dataclass(frozen=True)
class Target:
    """A recording to match: `type` report (soma traces), spikes (times per node) or rates
    (per population), scored by `loss` (targets.LOSSES) times `weight`."""

    name: str
    type: str
    loss: str
    weight: float
    key: str
    file: Path | None = None
    report: str | None = None  # the simulation config's report the candidate writes
    population: str | None = None
    window: tuple[float, float] | None = None
    tau: float = 5.0  # van Rossum's time constant (ms)
    rates: dict[str, float] = field(default_factory=dict)  # population -> Hz
    node_ids: tuple[int, ...] | None = None


@dataclass(frozen=True)
class OptimiserSpec:
    method: str
    budget: int  # evaluations at most
    population: int | None = None  # candidates per generation (CMA-ES)
    sigma: float = 0.25  # initial step on the [0, 1] scale (CMA-ES)
    seed: int = 1
    options: dict[str, Any] = field(default_factory=dict)  # passed on to the library


@dataclass(frozen=True)
class FitSpec:
    file: Path
    simulation_config: Path
    output_dir: Path
    parameters: tuple[Parameter, ...]
    targets: tuple[Target, ...]
    optimiser: OptimiserSpec
    ranks_per_candidate: int = 1

    def values(self, unit) -> dict[str, float]:
        """Parameter values by name for a point of the optimiser's [0, 1] space."""
        return {p.name: p.from_unit(u) for p, u in zip(self.parameters, unit)}


def _read(path: Path) -> Any:
    if not path.is_file():
        raise ConfigError("fit spec not found", file=path)
    text = path.read_text()
    try:
        if path.suffix.lower() == ".json":
            return json.loads(text)
        return yaml.safe_load(text)
    except (json.JSONDecodeError, yaml.YAMLError) as error:
        kind = "JSON" if path.suffix.lower() == ".json" else "YAML"
        reason = " ".join(str(error).split())  # one line
        raise ConfigError(f"not valid {kind}: {reason}", file=path) from None


def _unknown(raw: dict, known: set, key: str, problems: ProblemList):
    for name in sorted(set(raw) - known, key=str):
        problems.add(f"unknown key (known: {', '.join(sorted(known))})",
                     key=f"{key}.{name}" if key else str(name))


def _path(value, base: Path, key: str, problems: ProblemList, must_exist=True) -> Path | None:
    if not isinstance(value, str) or not value:
        problems.add(f"must be a path, got {value!r}", key=key)
        return None
    path = (base / value).resolve()
    if must_exist and not path.exists():
        problems.add(f"{path} does not exist", key=key)
        return None
    return path


def _positive_int(raw, name, key, problems, default=None):
    value = raw.get(name, default)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        problems.add(f"must be a whole number >= 1, got {value!r}",
                     key=f"{key}.{name}" if key else name)
        return None
    return value


def _unique_name(raw: dict, key: str, problems: ProblemList, names: set, what: str):
    """`raw["name"]`, checked to be a non-empty string that no other `what` uses."""
    name = raw.get("name")
    if not isinstance(name, str) or not name:
        problems.add(f"must be a non-empty string, got {name!r}", key=f"{key}.name")
    elif name in names:
        problems.add(f"'{name}' is used by another {what}", key=f"{key}.name")
    else:
        names.add(name)
    return name


def _parameter(raw, index: int, problems: ProblemList, names: set) -> Parameter | None:
    from .parameters import APPLY_KINDS

    key = f"parameters[{index}]"
    if not isinstance(raw, dict):
        problems.add("must be a mapping with name, bounds and apply", key=key)
        return None
    before = len(problems.items)
    _unknown(raw, PARAMETER_KEYS, key, problems)
    name = _unique_name(raw, key, problems, names, "parameter")
    scale = raw.get("scale", "linear")
    if scale not in SCALES:
        problems.add(f"must be one of {', '.join(SCALES)}, got {scale!r}", key=f"{key}.scale")
    bounds = raw.get("bounds")
    low = high = math.nan
    if (not isinstance(bounds, list) or len(bounds) != 2
            or not all(is_finite_number(b) for b in bounds)):
        problems.add(f"must be [low, high] (numbers), got {bounds!r}", key=f"{key}.bounds")
    else:
        low, high = float(bounds[0]), float(bounds[1])
        if not low < high:
            problems.add(f"low {low} must be below high {high}", key=f"{key}.bounds")
        elif scale == "log" and low <= 0:
            problems.add(f"a log scale needs bounds above 0, got {low}", key=f"{key}.bounds")
    initial = raw.get("initial")
    if initial is not None and not is_finite_number(initial):
        problems.add(f"must be a number, got {initial!r}", key=f"{key}.initial")
        initial = None
    elif initial is not None and low < high and not low <= initial <= high:
        problems.add(f"{initial} is outside the bounds [{low}, {high}]", key=f"{key}.initial")
    apply = raw.get("apply")
    kind: str = ""
    where: dict = {}
    if not isinstance(apply, dict) or len(apply) != 1:
        problems.add(f"must be a mapping of one kind ({', '.join(APPLY_KINDS)}) to its "
                     f"fields, got {apply!r}", key=f"{key}.apply")
    else:
        kind, where = next(iter(apply.items()))
        if kind not in APPLY_KINDS:
            problems.add(f"unknown kind '{kind}' (known: {', '.join(APPLY_KINDS)})",
                         key=f"{key}.apply")
        elif not isinstance(where, dict):
            problems.add(f"must be a mapping, got {where!r}", key=f"{key}.apply.{kind}")
        else:
            APPLY_KINDS[kind].check(where, f"{key}.apply.{kind}", problems)
    if len(problems.items) > before:
        return None
    if initial is None:
        initial = math.sqrt(low * high) if scale == "log" else 0.5 * (low + high)
    return Parameter(name=str(name), low=low, high=high, scale=scale, initial=float(initial),
                     kind=kind, where=dict(where), key=key)


def _window(raw, key, problems):
    window = raw.get("window")
    if window is None:
        return None
    if (not isinstance(window, list) or len(window) != 2
            or not all(is_finite_number(w) for w in window) or not window[0] < window[1]):
        problems.add(f"must be [start, end] in ms with start < end, got {window!r}",
                     key=f"{key}.window")
        return None
    return float(window[0]), float(window[1])


def _target(raw, index: int, base: Path, problems: ProblemList, names: set) -> Target | None:
    from .targets import LOSSES

    key = f"targets[{index}]"
    if not isinstance(raw, dict):
        problems.add("must be a mapping with name and type", key=key)
        return None
    before = len(problems.items)
    _unknown(raw, TARGET_KEYS, key, problems)
    name = _unique_name(raw, key, problems, names, "target")
    kind = raw.get("type")
    if kind not in TARGET_TYPES:
        problems.add(f"must be one of {', '.join(TARGET_TYPES)}, got {kind!r}",
                     key=f"{key}.type")
        return None
    loss = raw.get("loss", TARGET_TYPES[kind])
    if loss not in LOSSES:
        problems.add(f"unknown loss '{loss}' (known: {', '.join(LOSSES)})", key=f"{key}.loss")
    elif LOSSES[loss].target_type != kind:
        problems.add(f"loss '{loss}' scores '{LOSSES[loss].target_type}' targets, not "
                     f"'{kind}'", key=f"{key}.loss")
    weight = raw.get("weight", 1.0)
    if not is_finite_number(weight) or weight < 0:
        problems.add(f"must be a number >= 0, got {weight!r}", key=f"{key}.weight")
    tau = raw.get("tau", 5.0)
    if not is_finite_number(tau) or tau <= 0:
        problems.add(f"must be a time in ms > 0, got {tau!r}", key=f"{key}.tau")
    window = _window(raw, key, problems)
    file = None
    if kind != "rates" or "file" in raw:
        file = _path(raw.get("file"), base, f"{key}.file", problems)
    report = raw.get("report")
    if kind == "report" and (not isinstance(report, str) or not report):
        problems.add("must name the simulation config's report the candidates write "
                     f"(e.g. soma_v), got {report!r}", key=f"{key}.report")
    population = raw.get("population")
    if population is not None and not isinstance(population, str):
        problems.add(f"must be a population name, got {population!r}", key=f"{key}.population")
    rates = raw.get("rates", {})
    if kind == "rates":
        if (not isinstance(rates, dict) or not rates
                or not all(is_finite_number(v) and v > 0 for v in rates.values())):
            problems.add("must map each population to its rate in Hz (> 0), got "
                         f"{rates!r}", key=f"{key}.rates")
    node_ids = raw.get("node_ids")
    if node_ids is not None and (not isinstance(node_ids, list) or not all(
            isinstance(n, int) and not isinstance(n, bool) and n >= 0 for n in node_ids)):
        problems.add(f"must be a list of node ids, got {node_ids!r}", key=f"{key}.node_ids")
    if len(problems.items) > before:
        return None
    return Target(name=str(name), type=kind, loss=loss, weight=float(weight), key=key, file=file,
                  report=report, population=population, window=window, tau=float(tau),
                  rates={str(k): float(v) for k, v in rates.items()} if kind == "rates" else {},
                  node_ids=tuple(node_ids) if node_ids is not None else None)


def _optimiser(raw, problems: ProblemList, n_parameters: int) -> OptimiserSpec | None:
    from .optimisers import OPTIMISERS

    key = "optimiser"
    if not isinstance(raw, dict):
        problems.add("must be a mapping with method and budget", key=key)
        return None
    before = len(problems.items)
    _unknown(raw, OPTIMISER_KEYS, key, problems)
    method = raw.get("method")
    if method not in OPTIMISERS:
        problems.add(f"unknown method {method!r} (known: {', '.join(OPTIMISERS)})",
                     key=f"{key}.method")
    budget = _positive_int(raw, "budget", key, problems)
    if budget is None and "budget" not in raw:
        problems.add("is required: the number of evaluations at most", key=f"{key}.budget")
    population = _positive_int(raw, "population", key, problems)
    if population is not None and population < 2:
        problems.add("must be at least 2", key=f"{key}.population")
    sigma = raw.get("sigma", 0.25)
    if not is_finite_number(sigma) or not 0 < sigma <= 1:
        problems.add(f"must be in (0, 1] (a step on each parameter's [0, 1] scale), got "
                     f"{sigma!r}", key=f"{key}.sigma")
    seed = raw.get("seed", 1)
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 1:
        problems.add(f"must be a whole number >= 1, got {seed!r}", key=f"{key}.seed")
    options = raw.get("options", {})
    if not isinstance(options, dict):
        problems.add(f"must be a mapping, got {options!r}", key=f"{key}.options")
    if method == "cma" and n_parameters < 2:
        problems.add("CMA-ES needs at least 2 parameters; use a local method (nelder-mead, "
                     "powell) for one", key=f"{key}.method")
    if len(problems.items) > before:
        return None
    return OptimiserSpec(method=str(method), budget=int(budget or 0), population=population,
                         sigma=float(sigma), seed=int(seed), options=dict(options))


def load_fit_spec(path, output_dir=None) -> FitSpec:
    """Read and check the spec at `path`; `output_dir` (--output-path) replaces its own."""
    path = Path(path).resolve()
    raw = _read(path)
    problems = ProblemList(path)
    if not isinstance(raw, dict):
        raise ConfigError("must be a mapping with simulation_config, parameters, targets and "
                          "optimiser", file=path)
    base = path.parent
    _unknown(raw, TOP_KEYS, "", problems)
    for required in ("simulation_config", "parameters", "targets", "optimiser"):
        if required not in raw:
            problems.add("is required", key=required)
    simulation = None
    if "simulation_config" in raw:
        simulation = _path(raw["simulation_config"], base, "simulation_config", problems)
    output = Path(output_dir).resolve() if output_dir else _path(
        raw.get("output_dir", "fit_output"), base, "output_dir", problems, must_exist=False)
    raw_parameters = raw.get("parameters", [])
    if "parameters" in raw and (not isinstance(raw_parameters, list) or not raw_parameters):
        problems.add("must be a non-empty list", key="parameters")
        raw_parameters = []
    names: set[str] = set()
    parameters = [_parameter(p, i, problems, names) for i, p in enumerate(raw_parameters)]
    raw_targets = raw.get("targets", [])
    if "targets" in raw and (not isinstance(raw_targets, list) or not raw_targets):
        problems.add("must be a non-empty list", key="targets")
        raw_targets = []
    target_names: set[str] = set()
    targets = [_target(t, i, base, problems, target_names) for i, t in enumerate(raw_targets)]
    optimiser = (_optimiser(raw["optimiser"], problems, len(raw_parameters))
                 if "optimiser" in raw else None)
    ranks = _positive_int(raw, "ranks_per_candidate", "", problems, default=1)
    problems.raise_if_any()
    assert simulation is not None and output is not None and optimiser is not None
    return FitSpec(file=path, simulation_config=simulation, output_dir=output,
                   parameters=tuple(p for p in parameters if p is not None),
                   targets=tuple(t for t in targets if t is not None), optimiser=optimiser,
                   ranks_per_candidate=int(ranks or 1))
