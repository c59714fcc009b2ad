"""Frame reports in-process on one real cell (our NdExcCell template on a generated
morphology): what the file holds against what NEURON itself records, the compartment
numbering, and the terms of summation reports. Built-in mechanisms only (hh, pas, IClamp).
"""

import libsonata
import numpy as np
import pytest

from neurodamus.config import Conditions, RunSettings
from neurodamus.config.reports import ReportSettings
from neurodamus.errors import ConfigError, NeurodamusError
from neurodamus.reports.elements import CellCompartments
from neurodamus.reports.manager import cell_elements
from neurodamus.reports.recorder import FrameReport
from neurodamus.reports.table import ElementTable
from neurodamus.reports.variables import ReportVariable, build_catalogue
from neurodamus.run import prepare_run, run_solver
from neurodamus.testing.morphologies import write_pyramidal

DT, TSTOP = 0.025, 30.0


class OneRank:
    rank, size, is_root = 0, 1, True

    def barrier(self):
        pass


@pytest.fixture
def cell(tmp_path):
    """A spiking pyramidal cell (hh soma and axon, passive dendrites) with a step current."""
    from neuron import h

    from neurodamus.cells.biophysical import BiophysicalCell
    from neurodamus.cells.templates import load_template
    from neurodamus.resources import hoc_dir

    write_pyramidal(tmp_path / "pyramid.swc", np.random.default_rng(5))
    if not hasattr(h, "nd_load_morphology"):
        h.load_file(str(hoc_dir() / "nd_morphology.hoc"))
    load_template(h, h.ParallelContext(), "NdExcCell", hoc_dir() / "NdExcCell.hoc")
    built = BiophysicalCell(7, "exc", 2, h.NdExcCell(7, str(tmp_path), "pyramid.swc"))
    clamp = h.IClamp(built.soma(0.5))
    clamp.delay, clamp.dur, clamp.amp = 2.0, 1e9, 0.5
    built.keep_alive.append(clamp)
    return built


def settings(variables, **values) -> ReportSettings:
    defaults = dict(name="r", type="compartment", variable_name="", cells=None, sections="all",
                    compartments="all", start_time=0.0, end_time=TSTOP, dt=0.1, unit="mV",
                    file_name="r.h5")
    return ReportSettings(variables=tuple(variables), **{**defaults, **values})


VOLTAGE = ReportVariable("v", None, "v", "mV")


def run(h, hooks, tstop=TSTOP):
    pc = h.ParallelContext()
    run_settings = RunSettings(tstop=tstop, dt=DT, random_seed=1)
    conditions = Conditions(celsius=6.3, v_init=-65.0)
    prepare_run(h, pc, run_settings, conditions)
    run_solver(h, pc, run_settings, conditions, report_progress=False, window=7.3, hooks=hooks)


def test_compartment_report_is_what_neuron_records_bit_for_bit(cell, tmp_path):
    """Every compartment's v, read back with libsonata, equals the float32 of the values a
    Vector recorded at the same steps (every 4th step: report dt 0.1, simulation dt 0.025).
    An 8 kB buffer (34 frames of 59 compartments) forces 9 flushes during the run."""
    from neuron import h

    report = settings([VOLTAGE], start_time=0.5)
    table = ElementTable.from_cells(cell_elements(report, [cell]), ["exc"])
    hook = FrameReport(report, table, tmp_path / "r.h5", h, OneRank(), buffer_bytes=8 * 1024)
    assert getattr(hook, "buffer", None) is None and table.column_count > 50  # before_run makes it
    vectors = []
    for _, segment in CellCompartments(cell).all():
        vectors.append(h.Vector())
        vectors[-1].record(segment._ref_v)
    run(h, [hook])
    hook.finalize()

    population = libsonata.ElementReportReader(str(tmp_path / "r.h5"))["exc"]
    frames = population.get()
    data = np.asarray(frames.data)
    recorded = np.array([np.asarray(v) for v in vectors]).T  # [steps + 1, compartments]
    expected = recorded[20::4][:report.frame_count].astype(np.float32)  # from t = 0.5 ms
    assert data.dtype == np.float32 and data.shape == expected.shape == (295, 59)
    assert hook.buffer.capacity < 40  # so the run flushed at least 8 times
    np.testing.assert_array_equal(data, expected)
    assert expected.max() > 0  # the cell spiked: not a flat trace that anything would match
    np.testing.assert_allclose(np.asarray(frames.times), 0.5 + 0.1 * np.arange(295), atol=1e-9)
    assert population.get_node_ids() == [2]
    expected_ids = [cell.section_map.section_ids[i] for i, section in enumerate(cell.sections)
                    for _ in range(int(section.nseg))]  # each compartment: its section's id
    assert [int(e) for _, e in frames.ids] == expected_ids
    assert sorted(p.name for p in tmp_path.iterdir()) == ["pyramid.swc", "r.h5"]  # no parts left


def test_compartment_numbering(cell):
    """Element ids are SONATA section ids: soma 0, then each section's segments (x from 0 to
    1) in section-id order, all compartments of a section sharing its id."""
    compartments = CellCompartments(cell)
    everything = compartments.all()
    assert compartments.total == sum(int(s.nseg) for s in cell.sections) == len(everything)
    assert [e for e, _ in everything] == [i for i, s in enumerate(cell.sections)
                                          for _ in range(int(s.nseg))]
    assert everything[0][1].sec == cell.soma and compartments.at(0, 0.5)[0] == 0
    third = cell.sections[3]
    assert int(third.nseg) > 1  # so that two offsets below land in different compartments
    assert compartments.at(3, 0.0) == (3, third(0.5 / third.nseg))
    assert compartments.at(3, 1.0) == (3, third(1 - 0.5 / third.nseg))
    centres = compartments.select("dend", "center")
    basal = list(cell.hoc.basal)
    assert [segment.sec for _, segment in centres] == basal
    assert all(abs(segment.x - 0.5) < 0.5 / segment.sec.nseg for _, segment in centres)
    assert [segment.sec for _, segment in compartments.select("soma", "all")] == [cell.soma]


def test_columns_follow_the_templates_all_list_and_lfp_rows_the_section_ids():
    """An e-model's axon stubs are created after the morphology: last in its `all` list,
    where the reference writes their columns; an lfp electrodes file's rows stay in
    section-id order (soma, axon, dend, ...)."""
    from types import SimpleNamespace

    from neuron import h

    soma, first, second, dendrite = (h.Section(name=n) for n in ("s", "a0", "a1", "d"))
    cell = SimpleNamespace(
        sections=[soma, first, second, dendrite],
        section_map=SimpleNamespace(kinds=("soma", "axon", "dend"), present=(1, 2, 1),
                                    section_ids=[0, 1, 2, 3]),
        hoc=SimpleNamespace(all=[soma, dendrite, first, second]))
    compartments = CellCompartments(cell)
    assert [element for element, _ in compartments.all()] == [0, 3, 1, 2]
    assert [element for element, _ in compartments.select("axon", "all")] == [1, 2]
    assert [element for element, _ in compartments.by_section_id()] == [0, 1, 2, 3]


def test_summation_terms_scale_density_currents_by_area(cell):
    """ina (mA/cm2) enters as ina * area / 100 (nA) with scaling area, as is with none; the
    IClamp current enters with -1; `sections: soma` sums the whole cell into element 0."""
    catalogue = build_catalogue()
    sodium, clamp = catalogue.segment_variable("ina"), catalogue.point_variable("IClamp", None)
    whole_cell = settings([sodium, clamp], type="summation", sections="soma")
    with_area = cell_elements(whole_cell, [cell])[0]
    hh_segments = [seg for sec in cell.sections if sec.has_membrane("hh") for seg in sec]
    assert list(with_area.element_ids) == [0] and set(with_area.term_elements) == {0}
    assert len(with_area.refs) == len(hh_segments) + 1  # every sodium current and the clamp
    expected = sorted([seg.area() / 100 for seg in hh_segments] + [-1.0])
    np.testing.assert_allclose(sorted(with_area.coefficients), expected, rtol=1e-15)
    plain = cell_elements(settings([sodium], type="summation", sections="all", scaling="none"),
                          [cell])[0]
    assert plain.element_ids.size == CellCompartments(cell).total
    assert set(plain.coefficients) == {1.0}


def test_mechanism_name_and_summed_voltage(cell, tmp_path):
    """`pas` is pas's current i_pas (mA/cm2) in each compartment; a summation of v sums the
    compartments' v as they are (`scaling: none`) or times area / 100 (`area`), as the
    reference does: each against NEURON's own values at the end of the run."""
    from neuron import h

    catalogue = build_catalogue()
    pas = catalogue.segment_variable("pas")
    assert pas is not None
    assert (pas.attribute, pas.unit, pas.density) == ("i_pas", "mA/cm2", True)
    assert catalogue.segment_variable("hh") is None  # hh has no current called i
    voltage = catalogue.segment_variable("v")
    reports = [settings([pas], name="pas", file_name="pas.h5", unit="mA/cm2", sections="dend"),
               settings([voltage], name="sum", type="summation", sections="soma",
                        scaling="none", file_name="sum.h5"),
               settings([voltage], name="area", type="summation", sections="soma",
                        scaling="area", file_name="area.h5")]
    hooks = [FrameReport(r, ElementTable.from_cells(cell_elements(r, [cell]), ["exc"]),
                         tmp_path / r.file_name, h, OneRank(), buffer_bytes=1 << 20)
             for r in reports]
    segments = [segment for _, segment in CellCompartments(cell).all()]
    dendrites = [segment for _, segment in CellCompartments(cell).select("dend", "all")]
    currents = [h.Vector().record(s._ref_i_pas) for s in dendrites]  # pas: the dendrites
    voltages = [h.Vector().record(s._ref_v) for s in segments]
    run(h, hooks, tstop=10.0)
    for hook in hooks:
        hook.finalize()

    def frames(name):
        return np.asarray(libsonata.ElementReportReader(str(tmp_path / name))["exc"].get().data)

    every = round(0.1 / DT)  # report dt 0.1 over simulation dt 0.025
    i_pas = np.array([np.asarray(v) for v in currents]).T[::every][:100]
    v = np.array([np.asarray(v) for v in voltages]).T[::every][:100]
    areas = np.array([s.area() for s in segments]) / 100.0
    assert frames("pas.h5").shape == i_pas.shape and np.abs(i_pas).max() > 0
    np.testing.assert_array_equal(frames("pas.h5"), i_pas.astype(np.float32))
    np.testing.assert_allclose(frames("sum.h5")[:, 0], v.sum(axis=1), rtol=1e-6)
    np.testing.assert_allclose(frames("area.h5")[:, 0], v @ areas, rtol=1e-6)


def test_lfp_is_the_weighted_sum_of_the_membrane_currents(cell, tmp_path):
    """An lfp report (3 electrodes) against the same run's compartment report of i_membrane
    times the electrodes file's weights, summed over the compartments by hand."""
    import h5py
    from neuron import h

    from neurodamus.reports.lfp import ElectrodesFile, LfpReport

    total = CellCompartments(cell).total
    weights = np.random.default_rng(3).uniform(-1, 1, (total, 3))
    electrodes = tmp_path / "electrodes.h5"
    with h5py.File(electrodes, "w") as f:  # node 2 is the second of two listed nodes
        f["exc/node_ids"] = np.array([0, 2])
        f["exc/offsets"] = np.array([0, 4, 4 + total])
        f["electrodes/exc/scaling_factors"] = np.vstack([np.ones((4, 3)), weights])
    variables, problems = LfpReport.parse([], build_catalogue())
    assert problems == [] and variables[0].attribute == "i_membrane_"
    lfp = settings(variables, name="lfp", type="lfp", file_name="lfp.h5",
                   extension=ElectrodesFile(str(electrodes)))
    membrane = settings(variables, name="im", file_name="im.h5", unit="nA")
    h.CVode().use_fast_imem(1)
    hooks = [FrameReport(r, ElementTable.from_cells(cell_elements(r, [cell]), ["exc"]),
                         tmp_path / r.file_name, h, OneRank(), buffer_bytes=1 << 20)
             for r in (lfp, membrane)]
    run(h, hooks, tstop=10.0)
    for hook in hooks:
        hook.finalize()
    got = libsonata.ElementReportReader(str(tmp_path / "lfp.h5"))["exc"].get()
    currents = np.asarray(libsonata.ElementReportReader(str(tmp_path / "im.h5"))["exc"]
                          .get().data, float)
    assert [int(e) for _, e in got.ids] == [0, 1, 2]
    expected = currents @ weights
    assert np.abs(expected).max() > 1e-3  # the cell spiked: currents flowed
    np.testing.assert_allclose(np.asarray(got.data), expected, rtol=1e-4,
                               atol=1e-6 * np.abs(expected).max())


def test_variable_missing_in_a_selected_section_is_a_config_error(cell):
    gate = build_catalogue().segment_variable("m_hh")  # hh only in soma and axon
    with pytest.raises(ConfigError, match=r"key 'reports.r.variable_name': variable 'm_hh' does "
                                          r"not exist in the 'dend' sections of population 'exc'"):
        cell_elements(settings([gate]), [cell])
    assert cell_elements(settings([gate], sections="axon"), [cell])  # fine where hh is


def test_report_cannot_start_before_a_restored_run(cell, tmp_path):
    from neuron import h

    report = settings([VOLTAGE], sections="soma", compartments="center")
    table = ElementTable.from_cells(cell_elements(report, [cell]), ["exc"])
    hook = FrameReport(report, table, tmp_path / "r.h5", h, OneRank(), buffer_bytes=1 << 20)
    h.finitialize(-65.0)
    h.t = 10.0  # as after restoring a checkpoint taken at 10 ms
    with pytest.raises(NeurodamusError, match=r"report 'r' starts at 0 ms but the run starts "
                                              r"at 10 ms"):
        hook.before_run(h)


def test_run_stopping_early_writes_the_frames_it_reached(cell, tmp_path):
    """A run shortened to 12 ms (e.g. to save a checkpoint there) writes a complete file of
    the frames before 12 ms, and its time mapping says so."""
    from neuron import h

    report = settings([VOLTAGE], sections="soma", compartments="center")
    table = ElementTable.from_cells(cell_elements(report, [cell]), ["exc"])
    hook = FrameReport(report, table, tmp_path / "r.h5", h, OneRank(), buffer_bytes=1 << 20)
    run(h, [hook], tstop=12.0)
    hook.finalize()
    population = libsonata.ElementReportReader(str(tmp_path / "r.h5"))["exc"]
    assert population.times == (0.0, 12.0, 0.1)
    assert np.asarray(population.get().data).shape == (120, 1)
