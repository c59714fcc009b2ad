"""Reading the biophysics of a NeuroML2 cell file (`nml:Cell_N.cell.nml`) with libNeuroML.

What is read, as the reference simulator (BioNet) reads Allen Institute cell files: the
membrane and intracellular properties of the one `<cell>`, each assigned to the section
kinds its `segmentGroup` names (`all` is soma, axon, apic, dend; `somatic`, `axonal`,
`basal`/`dendritic`, `apical` are synonyms), in document order. The Allen exports also put a
`<concentrationModel id= type= decay= gamma=>` at the top level, which is no NeuroML2
element: libNeuroML keeps it only in the element tree it parsed, where it is read here.
The morphology in the file, `<species>`, `initMembPotential` and `spikeThresh` are not
used (the morphology comes from the node's SWC, the rest from the simulation config).

Values are converted to NEURON's units (S/cm2, mV, ohm cm, uF/cm2, ms); a unit outside
the table below is an error, never a silent factor of 10^4. (BioNet takes the number and
ignores the unit: the same for the NEURON units the Allen files use, not for others.) Where
BioNet would fail or drop something silently, this reader says so: a missing segmentGroup
means `all` (the NeuroML default), and channel kinds it cannot map (GHK, non-uniform,
variableParameter, populations, placement on segments) are errors.
"""

import re
from dataclasses import dataclass
from pathlib import Path

from ..errors import CircuitError

NEUROML_NAMESPACE = "{http://www.neuroml.org/schema/neuroml2}"
SECTION_KINDS = ("soma", "axon", "apic", "dend")
SEGMENT_GROUPS = {
    "soma": ("soma",), "somatic": ("soma",), "axon": ("axon",), "axonal": ("axon",),
    "dend": ("dend",), "basal": ("dend",), "dendritic": ("dend",),
    "apic": ("apic",), "apical": ("apic",), "all": SECTION_KINDS,
}
# unit -> factor to NEURON's unit, by quantity; "" is a bare number taken as it is.
UNITS = {
    "conductance density": {"S_per_cm2": 1.0, "mS_per_cm2": 1e-3, "S_per_m2": 1e-4, "": 1.0},
    "voltage": {"mV": 1.0, "V": 1e3, "": 1.0},
    "resistivity": {"ohm_cm": 1.0, "kohm_cm": 1e3, "ohm_m": 100.0, "": 1.0},
    "capacitance": {"uF_per_cm2": 1.0, "F_per_m2": 100.0, "": 1.0},
    "time": {"ms": 1.0, "s": 1e3, "": 1.0},
    # gamma, a fraction: some Allen exports write it with "ms", which BioNet ignores
    "number": {"": 1.0, "ms": 1.0},
}
# membraneProperties lists that define channels this reader cannot map to NEURON mechanisms.
UNSUPPORTED = ("channel_populations", "channel_density_v_shifts", "channel_density_ghks",
               "channel_density_ghk2s", "channel_density_non_uniforms",
               "channel_density_non_uniform_nernsts", "channel_density_non_uniform_ghks")
_QUANTITY = re.compile(r"^\s*([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)\s*([A-Za-z_0-9]*)\s*$")


@dataclass(frozen=True)
class NmlElement:
    """One biophysical property. `tag` is the NeuroML element name; `id` keys it within a
    section kind (a later element with the same id replaces an earlier one)."""

    tag: str  # channelDensity | channelDensityNernst | specificCapacitance | resistivity |
    # concentrationModel
    id: str
    value: float | None = None  # condDensity (S/cm2), capacitance (uF/cm2), resistivity
    erev: float | None = None  # mV
    ion: str = ""
    ion_channel: str = ""  # channelDensity: the NEURON mechanism
    model_type: str = ""  # concentrationModel: its `type` (suffix of gamma_/decay_)
    decay: float | None = None  # ms
    gamma: float | None = None


@dataclass(frozen=True)
class NmlBiophysics:
    """The properties of one cell file, per section kind, in the order they apply."""

    file: Path
    cell_id: str
    by_kind: dict  # kind -> tuple[NmlElement, ...]


def read_cell_biophysics(path: Path, population: str | None = None,
                         context: str = "") -> NmlBiophysics:
    """Parse `path`; any problem is one CircuitError naming the file (its message starts
    with `context`, e.g. the node that uses the file)."""
    path = Path(path)

    def fail(message):
        return CircuitError(f"{context}NeuroML cell file: {message}", population=population,
                            file=path)

    document = _parse(path, fail)
    cell = _the_cell(document, fail)
    properties = _biophysical_properties(document, cell, fail)

    found = []  # (libNeuroML object or raw element, tag)
    membrane = properties.membrane_properties
    if membrane is not None:
        for name in UNSUPPORTED:
            items = getattr(membrane, name, None) or []
            if items:
                raise fail(f"<{items[0].original_tagname_ or name}> '{items[0].id}' is not "
                           "supported (channelDensity, channelDensityNernst only)")
        found += [(c, "channelDensity") for c in membrane.channel_densities]
        found += [(c, "channelDensityNernst") for c in membrane.channel_density_nernsts]
        found += [(c, "specificCapacitance") for c in membrane.specific_capacitances]
    intracellular = properties.intracellular_properties
    if intracellular is not None:
        found += [(r, "resistivity") for r in intracellular.resistivities]
    root = getattr(document, "gds_elementtree_node_", None)
    if root is not None:
        found += [(e, "concentrationModel")
                  for e in root.iter(NEUROML_NAMESPACE + "concentrationModel")]
    nodes = list(root.iter()) if root is not None else []  # held, so that ids stay unique
    order = {id(node): i for i, node in enumerate(nodes)}
    found.sort(key=lambda item: order.get(id(_tree_node(item[0])), 0))

    by_kind: dict[str, dict[str, NmlElement]] = {kind: {} for kind in SECTION_KINDS}
    for item, tag in found:
        element, group = _element(item, tag, fail)
        kinds = SEGMENT_GROUPS.get(group.lower()) if group else SECTION_KINDS
        if kinds is None:
            raise fail(f"<{tag}> '{element.id}' has segmentGroup '{group}' (known: "
                       f"{', '.join(sorted(SEGMENT_GROUPS))})")
        for kind in kinds:
            by_kind[kind][element.id] = element
    return NmlBiophysics(path, str(cell.id),
                         {kind: tuple(elements.values()) for kind, elements in by_kind.items()})


def _parse(path: Path, fail):
    from lxml.etree import LxmlError
    from neuroml.nml.nml import GDSParseError, NeuroMLDocument, parse

    if not path.is_file():
        raise fail("not found")
    try:
        document = parse(str(path), silence=True, print_warnings=False)
    except (LxmlError, GDSParseError, OSError, ValueError, TypeError, AttributeError) as error:
        raise fail(f"not NeuroML2 ({' '.join(str(error).split())[:200]})") from None
    if not isinstance(document, NeuroMLDocument):
        raise fail("not NeuroML2 (the root element is not <neuroml> of the NeuroML2 "
                   "namespace)")
    return document


def _the_cell(document, fail):
    cells = list(document.cells)
    if len(cells) != 1:
        raise fail(f"needs exactly one <cell>, found {len(cells)}")
    return cells[0]


def _biophysical_properties(document, cell, fail):
    properties = cell.biophysical_properties
    if properties is None and cell.biophysical_properties_attr:
        properties = next((p for p in document.biophysical_properties
                           if p.id == cell.biophysical_properties_attr), None)
    if properties is None and len(document.biophysical_properties) == 1:
        # bmtk reads every element of the file: a document-level one beside an empty <cell>
        properties = document.biophysical_properties[0]
    if properties is None:
        raise fail(f"<cell> '{cell.id}' has no <biophysicalProperties>")
    return properties


def _tree_node(item):
    return getattr(item, "gds_elementtree_node_", item)


def _element(item, tag, fail) -> tuple[NmlElement, str | None]:
    """Our record of one property, and its segmentGroup."""
    if tag == "concentrationModel":  # a raw element of the parsed tree (see the docstring)
        attributes = item.attrib
        for name in ("id", "type", "decay", "gamma"):
            if name not in attributes:
                raise fail(f"<concentrationModel> '{attributes.get('id', '?')}' has no '{name}'")
        element_id = attributes["id"]
        return NmlElement(
            tag, element_id, model_type=attributes["type"], ion=attributes.get("ion", ""),
            decay=_quantity(attributes["decay"], "time", tag, element_id, fail),
            gamma=_quantity(attributes["gamma"], "number", tag, element_id, fail),
        ), attributes.get("segmentGroup")
    group = item.segment_groups
    if getattr(item, "segments", None):
        raise fail(f"<{tag}> '{getattr(item, 'id', tag)}' is placed on segments, not on a "
                   "segmentGroup (not supported)")
    if tag in ("specificCapacitance", "resistivity"):
        unit = "capacitance" if tag == "specificCapacitance" else "resistivity"
        return NmlElement(tag, tag, value=_quantity(item.value, unit, tag, tag, fail)), group
    if item.variable_parameters:
        raise fail(f"<{tag}> '{item.id}' has variableParameter (inhomogeneous channels are "
                   "not supported)")
    erev = getattr(item, "erev", None)
    return NmlElement(
        tag, str(item.id), ion=str(item.ion or ""), ion_channel=str(item.ion_channel),
        value=_quantity(item.cond_density, "conductance density", tag, item.id, fail),
        erev=None if erev is None else _quantity(erev, "voltage", tag, item.id, fail),
    ), group


def _quantity(text, quantity: str, tag: str, element_id: str, fail) -> float:
    match = _QUANTITY.match(str(text))
    units = UNITS[quantity]
    if match is None or match.group(2) not in units:
        known = ", ".join(u for u in units if u) or "none"
        raise fail(f"<{tag}> '{element_id}': cannot read {quantity} '{text}' "
                   f"(units: {known})")
    return float(match.group(1)) * units[match.group(2)]
