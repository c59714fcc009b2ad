"""Which variables exist: NEURON's built-in mechanisms (asked from NEURON's own registry)
plus those of the mod files that will be compiled (scanned from source), and the parsing of
a report's `variable_name` into what each report type records.

Only the mechanism registry is queried here; no section or cell is created, so this runs in
the config phase.
"""

import re
from dataclasses import dataclass
from functools import lru_cache

from .nmodl import Mechanism, scan_mod_files

# NEURON's built-in point processes whose current is ELECTRODE_CURRENT (injected through an
# electrode, so left out of i_membrane). NEURON's registry does not expose that flag.
BUILTIN_ELECTRODES = frozenset({"IClamp", "SEClamp", "VClamp", "OClamp"})
# Segment variables with a meaning of their own. i_membrane is read from NEURON's fast
# membrane current (i_membrane_, nA), which includes every membrane current but not the
# electrode currents.
MEMBRANE_CURRENT = "i_membrane"
SEGMENT_SPECIALS = {"v": "mV", MEMBRANE_CURRENT: "nA", "i_cap": "mA/cm2", "cm": "uF/cm2"}


@dataclass(frozen=True)
class ReportVariable:
    """One recordable quantity of a `variable_name`.

    `mechanism` is a point process name for point-process variables, None for a segment
    variable, "*" for a synapse report's bare variable (any synapse that has it). `attribute`
    is what NEURON exposes (`_ref_<attribute>`). `density` marks
    segment currents in mA/cm2 (multiplied by area / 100 to give nA when a summation
    scales by area). `sign` is -1 for electrode currents in summations, which add
    membrane currents (outward positive) while electrode currents are inward positive.
    """

    text: str
    mechanism: str | None
    attribute: str
    unit: str = ""
    density: bool = False
    sign: float = 1.0


class Catalogue:
    """Mechanisms by name, and the questions report validation asks about them."""

    def __init__(self, mechanisms: dict[str, Mechanism]):
        self.mechanisms = mechanisms
        self.segment_variables = dict(SEGMENT_SPECIALS)
        for mechanism in mechanisms.values():
            if mechanism.point_process:
                continue
            for name in mechanism.variables:
                self.segment_variables.setdefault(name, mechanism.units.get(name, ""))
            for name in mechanism.ion_variables:
                self.segment_variables.setdefault(name, _ion_unit(name))

    @property
    def point_processes(self) -> dict[str, Mechanism]:
        return {n: m for n, m in self.mechanisms.items() if m.point_process}

    def segment_variable(self, name: str) -> ReportVariable | None:
        """A segment variable by NEURON's name (`v`, `ina`, `m_hh`), or a density mechanism's
        name alone for its current (`pas` -> `i_pas`, as the reference reads it)."""
        if name not in self.segment_variables:
            current = self._mechanism_current(name)
            if current is None:
                return None
            return ReportVariable(name, None, current, "mA/cm2", density=True)
        if name == MEMBRANE_CURRENT:
            return ReportVariable(name, None, "i_membrane_", "nA")
        return ReportVariable(name, None, name, self.segment_variables[name],
                              density=self._is_density_current(name))

    def _mechanism_current(self, name: str) -> str | None:
        """`i_<name>` when `name` is a density mechanism with a current called `i`."""
        mechanism = self.mechanisms.get(name)
        if mechanism is None or mechanism.point_process:
            return None
        current = f"i_{name}"
        return current if current in mechanism.variables else None

    def _is_density_current(self, name: str) -> bool:
        """Ion currents (ina) and currents of density mechanisms (i_pas) are in mA/cm2."""
        if name == "i_cap":
            return True
        for mechanism in self.mechanisms.values():
            if mechanism.point_process:
                continue
            if name in mechanism.ion_variables:
                return _ion_unit(name) == "mA/cm2"
            if name in mechanism.variables:
                unit = mechanism.units.get(name, "").replace(" ", "")
                return unit in ("mA/cm2", "milliamp/cm2") or (not unit and name.startswith("i"))
        return False

    def point_variable(self, mechanism: str, variable: str | None) -> ReportVariable | None:
        """`Mech.var`, or `Mech` alone for the current the point process contributes."""
        found = self.point_processes.get(mechanism)
        if found is None:
            return None
        attribute = variable or found.current
        if attribute is None or attribute not in found.variables:
            return None
        text = f"{mechanism}.{variable}" if variable else mechanism
        sign = -1.0 if found.electrode and attribute == found.current else 1.0
        return ReportVariable(text, mechanism, attribute, found.units.get(attribute, ""),
                              sign=sign)


def _ion_unit(name: str) -> str:
    """Units of an ion variable: ina (mA/cm2), ena (mV), nai and nao (mM)."""
    if name.startswith("i"):
        return "mA/cm2"
    if name.startswith("e"):
        return "mV"
    return "mM"


@lru_cache(maxsize=1)
def builtin_mechanisms() -> dict[str, Mechanism]:
    """NEURON's compiled-in mechanisms with their variables, from NEURON's registry."""
    from neuron import h

    mechanisms = {}
    name = h.ref("")
    for kind in (0, 1):  # 0: density mechanisms, 1: point processes
        types = h.MechanismType(kind)
        for index in range(int(types.count())):
            types.select(index)
            types.selected(name)
            mechanism = str(name[0])
            variables = set()
            for vartype in (1, 2, 3):  # PARAMETER, ASSIGNED, STATE
                standard = h.MechanismStandard(mechanism, vartype)
                for i in range(int(standard.count())):
                    standard.name(name, i)
                    variables.add(str(name[0]))
            mechanisms[mechanism] = _builtin(mechanism, kind == 1, variables)
    return mechanisms


def _builtin(name: str, point: bool, variables: set) -> Mechanism:
    if point:
        return Mechanism(name, True, frozenset(variables),
                         current="i" if "i" in variables else None,
                         electrode=name in BUILTIN_ELECTRODES, units={"i": "nA"})
    if name.endswith("_ion"):
        # Named from the ion itself: what MechanismStandard lists for ions varies with NEURON's
        # state (after a run it no longer lists the current), the ion's variables do not.
        ion = name[:-len("_ion")]
        names = {f"e{ion}", f"i{ion}", f"{ion}i", f"{ion}o"}
        bare = {v for v in variables if "_" not in v}
        return Mechanism(name, False, frozenset(), frozenset(names | bare))
    if name == "extracellular":  # its i_membrane (mA/cm2) is not the one reports record
        variables = variables - {MEMBRANE_CURRENT}
    return Mechanism(name, False, frozenset(variables),
                     units={v: _builtin_unit(v) for v in variables})


def _builtin_unit(name: str) -> str:
    """Units of the variables of NEURON's built-in density mechanisms (hh, pas, fastpas),
    which follow NEURON's naming: i* currents, g* conductances, e* reversal potentials."""
    for prefix, unit in (("i", "mA/cm2"), ("g", "S/cm2"), ("e", "mV")):
        if name.startswith(prefix):
            return unit
    return "ms" if "tau" in name else ""


def build_catalogue(mod_files=()) -> Catalogue:
    """NEURON's built-ins, overridden by what the given mod files define."""
    mechanisms = dict(builtin_mechanisms())
    mechanisms.update(scan_mod_files(mod_files))
    return Catalogue(mechanisms)


def split_variable_names(text: str) -> list[str]:
    """`"i_membrane, IClamp"` -> ["i_membrane", "IClamp"] (commas and/or spaces)."""
    return [token for token in re.split(r"[,\s]+", text.strip()) if token]
