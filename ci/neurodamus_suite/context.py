"""The case registry and what every case needs: our CLI run on a config (cached per config
and arguments), and the reference's fixtures (tests/conftest.py) as configs."""

import copy
import json
import subprocess
import sys
import tempfile
from pathlib import Path

VENV_BIN = Path(sys.executable).parent
# NodeA's spikes in usecase3's simulation_sonata.json (50 ms): several of the reference's tests
# expect them, whatever the solver, build cycles or balance.
USECASE3_IDS = [0, 1, 2, 0, 1, 2, 0, 0, 1, 2, 2, 2, 2, 2, 0, 2, 1, 0, 2, 0, 1]
USECASE3_TIMES = [0.2, 0.3, 0.3, 2.5, 3.4, 4.2, 5.5, 7., 7.4, 8.6, 13.8, 19.6, 25.7, 32., 36.4,
                  38.5, 40.8, 42.6, 45.2, 48.3, 49.9]
CASES: list = []  # (test id, function(context) -> list of (assertion, held, why))


def case(test_id):
    def register(function):
        CASES.append((test_id, function))
        return function
    return register


class RunFailed(Exception):
    pass


class Context:
    def __init__(self, reference: Path, work: Path):
        self.reference, self.work = reference, work
        self.simulations = reference / "tests" / "simulations"
        self.mechanisms = reference / "tests" / "mechanisms" / "neocortex"
        self.ringtest = self.simulations / "ringtest"
        self.v5 = self.simulations / "v5_sonata"
        self.usecase3 = self.simulations / "usecase3"
        self._runs: dict[str, Path] = {}

    def run(self, config: dict, ranks=1, args=(), files=None) -> Path:
        """Our CLI on `config` (cached by config, arguments and `files`: {name: text} put in
        the working directory first); returns the output dir (its parent: the working
        directory)."""
        key = json.dumps([config, ranks, list(args), files], sort_keys=True)
        if key in self._runs:
            return self._runs[key]
        directory = Path(tempfile.mkdtemp(dir=self.work))
        for name, text in (files or {}).items():
            (directory / name).write_text(text)
        path = directory / "simulation_config.json"
        path.write_text(json.dumps(config, indent=1))
        output = directory / "output"
        command = [str(VENV_BIN / "mpiexec"), "-n", str(ranks), str(VENV_BIN / "neurodamus"),
                   str(path), "--output-path", str(output), "--no-progress",
                   "--mechanisms", str(self.mechanisms), *args]
        result = subprocess.run(command, capture_output=True, text=True, timeout=1800,
                                cwd=directory)
        if result.returncode != 0:
            errors = [line for line in result.stderr.splitlines() if "error" in line.lower()]
            raise RunFailed((errors or result.stderr.splitlines() or ["no output"])[-1][:300])
        self._runs[key] = output
        return output

    # -- the reference's fixtures (tests/conftest.py), as configs --------------------------

    def ringtest_base(self) -> dict:
        return {"network": str(self.ringtest / "circuit_config.json"),
                "node_sets_file": str(self.ringtest / "nodesets.json"),
                "target_simulator": "NEURON",
                "run": {"random_seed": 1122, "dt": 0.1, "tstop": 50}, "node_set": "Mosaic",
                "conditions": {"celsius": 35, "v_init": -65}}

    def v5_base(self) -> dict:
        config = json.loads((self.v5 / "simulation_config_mini.json").read_text())
        config["network"] = str(self.v5 / "sub_mini5" / "circuit_config.json")
        config.pop("manifest", None)
        return config

    def usecase3_base(self) -> dict:
        return {"network": str(self.usecase3 / "circuit_config.json"),
                "node_sets_file": str(self.usecase3 / "nodesets.json"),
                "run": {"random_seed": 12345, "dt": 0.05, "tstop": 10},
                "conditions": {"v_init": -65}}

    def from_file(self, directory: Path, file: str) -> dict:
        """A config file of the reference's simulations as its fixture loads it: relative
        paths made absolute, the default network."""
        config = json.loads((directory / file).read_text())
        config.pop("manifest", None)
        config.setdefault("network", "circuit_config.json")  # the reference's fixture's default
        for key in ("network", "node_sets_file"):
            if key in config and not Path(config[key]).is_absolute():
                config[key] = str(directory / config[key])
        for settings in config.get("inputs", {}).values():
            if "spike_file" in settings and not Path(settings["spike_file"]).is_absolute():
                settings["spike_file"] = str(directory / settings["spike_file"])
        return config


def merged(parent: dict, child: dict) -> dict:
    """The reference's merge of extra_config into a base: recursive, a child dict holding
    `override_field` replaces the parent's."""
    out = copy.deepcopy(parent)
    for key, value in child.items():
        if isinstance(value, dict) and "override_field" in value:
            out[key] = {k: v for k, v in value.items() if k != "override_field"}
        elif isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = merged(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out
