"""The evidence dashboard's tables, and its exports as CSV, XLSX (openpyxl) and PDF (reportlab).

Every export carries the definition's name, version and plain-language sentence beside the
figures, and states the suppression rule. The exports hold aggregate figures only, already
suppressed by the engine; no person or release is identifiable in them.

The PDF uses reportlab's built-in Helvetica (no font files, no network).
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.utils.formats import date_format
from django.utils.translation import gettext as _

from whatworks.evidence.forms import BREAKDOWN_CHOICES
from whatworks.evidence.selectors import UNDER_AGE_BAND, EvidenceReport
from whatworks.records.choices import FacilityType, ReleaseType, Sex
from whatworks.web.spreadsheets import safe_row

SUPPRESSION_MIN_COUNT = 10
DASH = "—"

CSV_CONTENT_TYPE = "text/csv; charset=utf-8"
XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PDF_CONTENT_TYPE = "application/pdf"


@dataclass(frozen=True)
class WindowRow:
    """One window's published figures; rates and bounds are shares from 0 to 1."""

    years: int
    eligible: int | None
    recidivists: int | None
    rate: float | None
    ci_low: float | None
    ci_high: float | None
    suppressed: bool

    @property
    def rate_percent(self) -> float | None:
        return None if self.rate is None else 100 * self.rate

    @property
    def ci_low_percent(self) -> float | None:
        return None if self.ci_low is None else 100 * self.ci_low

    @property
    def ci_high_percent(self) -> float | None:
        return None if self.ci_high is None else 100 * self.ci_high


@dataclass(frozen=True)
class GroupRow:
    value: Any
    label: str
    windows: list[WindowRow]


def _window_row(cell: dict[str, Any]) -> WindowRow:
    return WindowRow(
        years=int(cell["years"]),
        eligible=cell.get("eligible"),
        recidivists=cell.get("recidivists"),
        rate=cell.get("rate"),
        ci_low=cell.get("ci_low"),
        ci_high=cell.get("ci_high"),
        suppressed=bool(cell.get("suppressed")),
    )


def group_label(column: str, value: Any, facility_names: dict[str, str]) -> str:
    """A breakdown value as a reader would name it (codes become translated labels)."""
    if value is None or value == "":
        return _("Not recorded")
    if column == "facility":
        name = facility_names.get(value)
        return f"{value} · {name}" if name else str(value)
    if column == "facility_type" and value in FacilityType.values:
        return str(FacilityType(value).label)
    if column == "sex" and value in Sex.values:
        return str(Sex(value).label)
    if column == "age_band" and value == UNDER_AGE_BAND:
        return _("Under 18")
    return str(value)


def _excluded_labels() -> dict[str, str]:
    return {
        "release_type_not_counted": _("Release type not counted by this definition"),
        "release_type_missing": _("Release type not recorded"),
        "release_date_missing": _("Release date not recorded"),
        "followup_end_date_missing": _("End of follow-up not recorded"),
        "followup_end_before_release": _("Follow-up ends before the release"),
        "died_during_followup": _("Died during follow-up"),
        "deported_during_followup": _("Deported during follow-up"),
        "events_unknown_person": _("Events of people with no release in the cohort"),
        "events_type_not_counted": _("Events of a type this definition does not count"),
        "events_date_missing": _("Events without the date this definition uses"),
        "events_duplicate": _("Events recorded twice"),
        "events_no_counted_release": _("Events of people with no counted release"),
        "events_before_release": _("Events before the release"),
        "events_after_followup_end": _("Events after the end of follow-up"),
    }


def excluded_label(reason: str) -> str:
    """Why releases or events were left out, for a reader; unknown reasons show their code."""
    if reason in ReleaseType.values:
        return _("Release type: %(type)s") % {"type": ReleaseType(reason).label}
    return _excluded_labels().get(reason, reason.replace("_", " ").capitalize())


def breakdown_label(column: str) -> str:
    return str(dict(BREAKDOWN_CHOICES).get(column, column))


@dataclass(frozen=True)
class TechnicalViolationRow:
    """One window, counted with and without technical violations (published side by side)."""

    years: int
    with_violations: WindowRow
    without_violations: WindowRow

    @property
    def cells(self) -> tuple[WindowRow, WindowRow]:
        return (self.with_violations, self.without_violations)


def report_tables(report: EvidenceReport) -> dict[str, Any]:
    """The figures of a report as rows for the page and the exports."""
    result = report.result
    facility_names = {option.code: option.name for option in report.facilities}
    column = report.query.breakdown
    rates = [_window_row(cell) for cell in result.get("windows", [])]
    groups = []
    for group in result.get("groups", []) or []:
        value = (group.get("by") or {}).get(column)
        groups.append(
            GroupRow(
                value=value,
                label=group_label(column, value, facility_names),
                windows=[_window_row(cell) for cell in group.get("windows", [])],
            )
        )
    # Reasons with a count of zero are left out; the engine lists every reason it knows.
    excluded = [
        (reason, excluded_label(reason), count)
        for reason, count in (result.get("excluded") or {}).items()
        if count
    ]
    excluded_releases = [row for row in excluded if not row[0].startswith("events_")]
    excluded_events = [row for row in excluded if row[0].startswith("events_")]
    any_suppressed = any(row.suppressed for row in rates) or any(
        row.suppressed for group in groups for row in group.windows
    )
    variants = report.technical_violation_variants
    technical_violations = [
        TechnicalViolationRow(
            years=with_cell["years"],
            with_violations=_window_row(with_cell),
            without_violations=_window_row(without_cell),
        )
        for with_cell, without_cell in zip(
            variants.get("with_technical_violations", []),
            variants.get("without_technical_violations", []),
            strict=False,
        )
    ]
    return {
        "definition": result["definition"],
        "rates": rates,
        "technical_violations": technical_violations,
        "groups": groups,
        "breakdown_label": breakdown_label(column) if column else "",
        "excluded": excluded,
        "excluded_releases": excluded_releases,
        "excluded_events": excluded_events,
        "totals": result.get("totals") or {},
        "any_suppressed": any_suppressed,
        "suppression_min_count": SUPPRESSION_MIN_COUNT,
        "suppression_note": suppression_note(),
        "scope_text": scope_text(report),
        "cohort_text": cohort_text(report),
        "followup_text": followup_text(report),
    }


def definition_heading(definition: dict[str, Any]) -> str:
    return _("%(name)s, version %(version)s") % {
        "name": definition["name"],
        "version": definition["version"],
    }


def suppression_note() -> str:
    return _(
        "— means the figure is suppressed: counts from 1 to %(limit)s could identify people, "
        "so they are not published, and further cells are suppressed where a suppressed one "
        "could be worked out from the totals."
    ) % {"limit": SUPPRESSION_MIN_COUNT - 1}


def scope_text(report: EvidenceReport) -> str:
    if report.whole_service:
        return _("Releases from every facility of the service.")
    codes = ", ".join(option.code for option in report.facilities) or _("none")
    return _("Releases from your facilities: %(codes)s.") % {"codes": codes}


def cohort_text(report: EvidenceReport) -> str:
    first, last = report.query.cohort_from, report.query.cohort_to
    if first is None and last is None:
        return _("Every year of release.")
    if last is None:
        return _("Released in %(first)s or later.") % {"first": first}
    if first is None:
        return _("Released in %(last)s or earlier.") % {"last": last}
    return _("Released from %(first)s to %(last)s (inclusive).") % {"first": first, "last": last}


def followup_text(report: EvidenceReport) -> str:
    return _(
        "Outcome records are taken as complete up to %(date)s; only releases followed up for "
        "a whole window are counted in it."
    ) % {"date": date_format(report.today, "DATE_FORMAT")}


def filename(report: EvidenceReport, extension: str) -> str:
    slug = report.result["definition"].get("slug", "measure")
    return f"recidivism-{slug}-{report.today:%Y%m%d}.{extension}"


# --- Kaplan-Meier chart geometry (the page's SVG and the PDF's drawing) ---------------------

CHART_WIDTH = 720
CHART_HEIGHT = 300
CHART_LEFT = 48  # room for the percentage labels
CHART_RIGHT = 12
CHART_TOP = 10
CHART_BOTTOM = 40  # room for the year labels and the axis title
DAYS_PER_YEAR = 365.25


@dataclass(frozen=True)
class ChartTick:
    label: str
    position: float


def _clean(values: list, fallback: list[float]) -> list[float]:
    """Interval bounds with gaps (None or NaN) filled from the estimate itself."""
    cleaned = []
    for value, default in zip(values, fallback, strict=False):
        if value is None or (isinstance(value, float) and math.isnan(value)):
            cleaned.append(default)
        else:
            cleaned.append(float(value))
    return cleaned


def _step_points(
    times: list[float], values: list[float], x, y, end_x: float
) -> list[tuple[float, float]]:
    """Corners of a right-continuous step function from 1 at day 0, in pixels.

    Steps that do not move the line are skipped and steps in the same pixel column are
    merged into one vertical drop, so the path stays short for large cohorts.
    """
    points = [(x(0.0), y(1.0))]
    level = points[0][1]
    for time, value in zip(times, values, strict=False):
        py = y(value)
        if py == level:
            continue
        px = x(max(time, 0.0))
        if len(points) >= 2 and points[-1][0] == px and points[-2][0] == px:
            points[-1] = (px, py)
        elif points[-1][0] == px:
            points.append((px, py))
        else:
            points.extend([(px, level), (px, py)])
        level = py
    if points[-1][0] < end_x:
        points.append((end_x, level))
    return points


def _format_points(points: list[tuple[float, float]]) -> str:
    return " ".join(f"{px:g},{py:g}" for px, py in points)


def km_chart(
    km: dict | None, *, horizon_years: int, windows: list[int] | tuple[int, ...] = ()
) -> dict | None:
    """Geometry of the Kaplan-Meier step curve and its 95% band, for server-side SVG.

    Computed here so the template only places SVG elements; colours come from the
    stylesheet because the content security policy forbids inline styles. The x axis runs
    from release to ``horizon_years`` (the longest window, or the last follow-up time if
    that is longer); the y axis is the share of releases not yet followed by a counted event,
    from 0 to 100%.
    """
    if not km or not km.get("times"):
        return None
    times = [float(t) for t in km["times"]]
    survival = [float(s) for s in km["survival"]]
    low = _clean(km.get("ci_low") or [], survival)
    high = _clean(km.get("ci_high") or [], survival)
    if len(low) < len(survival):
        low = survival
    if len(high) < len(survival):
        high = survival
    last_year = math.ceil(max(times) / DAYS_PER_YEAR) if max(times) > 0 else 1
    years = max(horizon_years, 1, min(last_year, 50))
    horizon_days = years * DAYS_PER_YEAR
    plot_left, plot_right = CHART_LEFT, CHART_WIDTH - CHART_RIGHT
    plot_top, baseline = CHART_TOP, CHART_HEIGHT - CHART_BOTTOM

    def x(days: float) -> float:
        share = min(max(days, 0.0), horizon_days) / horizon_days
        return round(plot_left + (plot_right - plot_left) * share, 1)

    def y(value: float) -> float:
        return round(baseline - (baseline - plot_top) * min(max(value, 0.0), 1.0), 1)

    kept = [i for i, t in enumerate(times) if t <= horizon_days]
    times = [times[i] for i in kept]
    curve = _step_points(times, [survival[i] for i in kept], x, y, plot_right)
    upper = _step_points(times, [high[i] for i in kept], x, y, plot_right)
    lower = _step_points(times, [low[i] for i in kept], x, y, plot_right)
    year_step = 1 if years <= 12 else 5
    return {
        "width": CHART_WIDTH,
        "height": CHART_HEIGHT,
        "left": plot_left,
        "right": plot_right,
        "top": plot_top,
        "baseline": baseline,
        "curve": _format_points(curve),
        "band": _format_points(upper + list(reversed(lower))),
        "x_ticks": [
            ChartTick(label=str(year), position=x(year * DAYS_PER_YEAR))
            for year in range(0, years + 1, year_step)
        ],
        "y_ticks": [
            ChartTick(label=f"{percent}%", position=y(percent / 100))
            for percent in (0, 25, 50, 75, 100)
        ],
        # A dashed line at the end of each follow-up window of the definition.
        "windows": [
            ChartTick(label=str(years), position=x(years * DAYS_PER_YEAR))
            for years in windows
            if years <= horizon_days / DAYS_PER_YEAR
        ],
        "x_label_y": CHART_HEIGHT - 22,
        "x_title_y": CHART_HEIGHT - 4,
        "x_title_x": round((plot_left + plot_right) / 2, 1),
        "median_days": km.get("median_days"),
    }


# --- CSV ------------------------------------------------------------------------------------

CSV_COLUMNS = [
    "definition",
    "definition_version",
    "definition_sentence",
    "breakdown",
    "group",
    "window_years",
    "eligible",
    "recidivists",
    "rate",
    "ci_low",
    "ci_high",
    "suppressed",
]


def _csv_value(value: Any) -> Any:
    return "" if value is None else value


def export_csv(report: EvidenceReport) -> tuple[bytes, str]:
    """One row per window, overall (breakdown "all") then per group; codes, not labels.

    The definition's name, version and sentence are on every row so that no figure can be
    separated from its definition. Suppressed figures are empty with ``suppressed`` true.
    """
    tables = report_tables(report)
    definition = tables["definition"]
    column = report.query.breakdown
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)

    def write(breakdown: str, group: Any, row: WindowRow) -> None:
        # Group values (facility codes and the like) come from records: never formulas.
        writer.writerow(
            safe_row(
                [
                    definition["name"],
                    definition["version"],
                    definition["sentence"],
                    breakdown,
                    _csv_value(group),
                    row.years,
                    _csv_value(row.eligible),
                    _csv_value(row.recidivists),
                    _csv_value(row.rate),
                    _csv_value(row.ci_low),
                    _csv_value(row.ci_high),
                    "true" if row.suppressed else "false",
                ]
            )
        )

    for row in tables["rates"]:
        write("all", "all", row)
    for group in tables["groups"]:
        for row in group.windows:
            write(column, group.value, row)
    # A byte-order mark so spreadsheet programs read the accents as UTF-8.
    return ("\ufeff" + buffer.getvalue()).encode("utf-8"), CSV_CONTENT_TYPE


# --- XLSX -----------------------------------------------------------------------------------


def _append(sheet, values: list[Any]) -> None:
    """Add a row; text that a spreadsheet would run as a formula is written as text."""
    sheet.append(safe_row(values))


def _heading_rows(sheet, report: EvidenceReport, definition: dict[str, Any]) -> None:
    _append(sheet, [definition_heading(definition)])
    _append(sheet, [definition["sentence"]])
    _append(sheet, [scope_text(report) + " " + cohort_text(report)])
    _append(sheet, [])


def _xlsx_window_cells(row: WindowRow) -> list[Any]:
    if row.suppressed:
        return [row.years, DASH, DASH, DASH, DASH, DASH]
    return [row.years, row.eligible, row.recidivists, row.rate, row.ci_low, row.ci_high]


def export_xlsx(report: EvidenceReport) -> tuple[bytes, str]:
    """Sheets Rates, Groups, Excluded and Definition; rates are shares formatted as percent."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    tables = report_tables(report)
    definition = tables["definition"]
    bold = Font(bold=True)
    window_header = [
        _("Window (years)"),
        _("Releases followed up"),
        _("Releases with a counted event"),
        _("Rate"),
        _("95% interval, low"),
        _("95% interval, high"),
    ]
    workbook = Workbook()

    rates = workbook.active
    rates.title = _("Rates")
    _heading_rows(rates, report, definition)
    _append(rates, window_header)
    for row in tables["rates"]:
        _append(rates, _xlsx_window_cells(row))

    groups = workbook.create_sheet(_("Groups"))
    _heading_rows(groups, report, definition)
    _append(groups, [tables["breakdown_label"] or _("No breakdown"), *window_header])
    for group in tables["groups"]:
        for row in group.windows:
            _append(groups, [group.label, *_xlsx_window_cells(row)])

    excluded = workbook.create_sheet(_("Not counted"))
    _heading_rows(excluded, report, definition)
    _append(excluded, [_("Reason"), _("Code"), _("Count")])
    for reason, label, count in tables["excluded"]:
        _append(excluded, [label, reason, count])

    about = workbook.create_sheet(_("Definition"))
    for label, value in [
        (_("Definition"), definition["name"]),
        (_("Version"), definition["version"]),
        (_("In plain words"), definition["sentence"]),
        (_("Source"), definition.get("citation", "")),
        (_("Identifier"), definition.get("slug", "")),
        (_("Changed from the published definition"), ", ".join(definition.get("modified", []))),
        (_("Scope"), scope_text(report)),
        (_("Cohort"), cohort_text(report)),
        (_("Follow-up"), followup_text(report)),
        (_("Suppression"), suppression_note()),
    ]:
        _append(about, [label, value])

    for sheet in (rates, groups, excluded):
        sheet["A1"].font = bold
        for cell in sheet[5]:
            cell.font = bold
        for row in sheet.iter_rows(min_row=6):
            for cell in row:
                if isinstance(cell.value, float):
                    cell.number_format = "0.0%"
    for cell in about["A"]:
        cell.font = bold
    about.column_dimensions["A"].width = 32
    about.column_dimensions["B"].width = 100
    rates.column_dimensions["A"].width = 16
    groups.column_dimensions["A"].width = 32

    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue(), XLSX_CONTENT_TYPE


# --- PDF ------------------------------------------------------------------------------------


def _percent(value: float | None) -> str:
    return DASH if value is None else f"{100 * value:.1f}%"


def _pdf_window_cells(row: WindowRow) -> list[str]:
    if row.suppressed:
        return [str(row.years), DASH, DASH, DASH, DASH]
    interval = (
        DASH
        if row.ci_low is None or row.ci_high is None
        else f"{_percent(row.ci_low)} – {_percent(row.ci_high)}"
    )
    return [
        str(row.years),
        DASH if row.eligible is None else str(row.eligible),
        DASH if row.recidivists is None else str(row.recidivists),
        _percent(row.rate),
        interval,
    ]


def _km_drawing(km: dict | None, windows: list[int], width: float, height: float):
    """The Kaplan-Meier step curve and its 95% band as a reportlab drawing."""
    from reportlab.graphics.shapes import Drawing, Line, Polygon, PolyLine, String
    from reportlab.lib import colors

    chart = km_chart(km, horizon_years=max(windows, default=1), windows=windows)
    if chart is None:
        return None
    drawing = Drawing(width, height)
    scale_x = width / chart["width"]
    scale_y = height / chart["height"]

    def points(text: str) -> list[float]:
        flat: list[float] = []
        for pair in text.split():
            px, py = pair.split(",")
            # SVG's y grows downwards, reportlab's upwards.
            flat.extend([float(px) * scale_x, height - float(py) * scale_y])
        return flat

    drawing.add(
        Polygon(
            points(chart["band"]),
            fillColor=colors.Color(0.04, 0.31, 0.42, alpha=0.2),
            strokeColor=None,
        )
    )
    drawing.add(
        PolyLine(points(chart["curve"]), strokeColor=colors.HexColor("#0b4f6c"), strokeWidth=1.5)
    )
    left, right = chart["left"] * scale_x, chart["right"] * scale_x
    base = height - chart["baseline"] * scale_y
    drawing.add(Line(left, base, right, base, strokeColor=colors.black))
    drawing.add(Line(left, base, left, height - chart["top"] * scale_y, strokeColor=colors.black))
    for tick in chart["y_ticks"]:
        ty = height - tick.position * scale_y
        drawing.add(Line(left, ty, right, ty, strokeColor=colors.lightgrey, strokeWidth=0.5))
        drawing.add(String(left - 4, ty - 3, tick.label, fontSize=7, textAnchor="end"))
    for tick in chart["windows"]:
        drawing.add(
            Line(
                tick.position * scale_x,
                base,
                tick.position * scale_x,
                height - chart["top"] * scale_y,
                strokeColor=colors.HexColor("#4a525c"),
                strokeDashArray=[3, 2],
                strokeWidth=0.75,
            )
        )
    for tick in chart["x_ticks"]:
        drawing.add(
            String(tick.position * scale_x, base - 10, tick.label, fontSize=7, textAnchor="middle")
        )
    drawing.add(
        String(
            (left + right) / 2,
            2,
            _("Years since release"),
            fontSize=7,
            textAnchor="middle",
        )
    )
    return drawing


def export_pdf(report: EvidenceReport) -> tuple[bytes, str]:
    """A one- or two-page report: title, definition, rates, breakdown, excluded, KM chart."""
    from xml.sax.saxutils import escape

    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import getSampleStyleSheet
    from reportlab.lib.units import mm
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

    tables = report_tables(report)
    definition = tables["definition"]
    styles = getSampleStyleSheet()
    story: list[Any] = []

    def paragraph(text: str, style: str = "BodyText") -> None:
        story.append(Paragraph(escape(text), styles[style]))

    table_style = TableStyle(
        [
            ("FONTNAME", (0, 0), (-1, 0), "Helvetica-Bold"),
            ("FONTSIZE", (0, 0), (-1, -1), 8),
            ("LINEBELOW", (0, 0), (-1, 0), 1, colors.black),
            ("ALIGN", (1, 1), (-1, -1), "RIGHT"),
            ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ]
    )
    window_header = [
        _("Years"),
        _("Followed up"),
        _("With event"),
        _("Rate"),
        _("95% interval"),
    ]

    paragraph(_("Recidivism: %(name)s") % {"name": definition["name"]}, "Title")
    paragraph(definition_heading(definition), "Heading2")
    paragraph(definition["sentence"])
    if definition.get("citation"):
        paragraph(_("Source: %(citation)s") % {"citation": definition["citation"]})
    if definition.get("modified"):
        paragraph(
            _("Changed from the published definition: %(settings)s.")
            % {"settings": ", ".join(definition["modified"])}
        )
    paragraph(f"{scope_text(report)} {cohort_text(report)} {followup_text(report)}")

    paragraph(_("Rates"), "Heading3")
    rows = [window_header] + [_pdf_window_cells(row) for row in tables["rates"]]
    story.append(Table(rows, style=table_style, hAlign="LEFT"))

    if tables["groups"]:
        paragraph(
            _("By %(breakdown)s") % {"breakdown": tables["breakdown_label"].lower()}, "Heading3"
        )
        rows = [[tables["breakdown_label"], *window_header]]
        for group in tables["groups"]:
            for row in group.windows:
                rows.append(
                    [Paragraph(escape(group.label), styles["BodyText"]), *_pdf_window_cells(row)]
                )
        story.append(Table(rows, style=table_style, hAlign="LEFT", repeatRows=1))

    if tables["any_suppressed"]:
        story.append(Spacer(1, 2 * mm))
        paragraph(suppression_note())

    paragraph(_("Releases and events not counted"), "Heading3")
    if tables["excluded"]:
        rows = [[_("Reason"), _("Count")]] + [
            [label, str(count)] for _reason, label, count in tables["excluded"]
        ]
        story.append(Table(rows, style=table_style, hAlign="LEFT"))
    else:
        paragraph(_("Every release in the cohort was counted."))

    windows = [row.years for row in tables["rates"]]
    drawing = _km_drawing(report.result.get("km"), windows, 170 * mm, 70 * mm)
    if drawing is not None:
        paragraph(_("Share of releases without a counted event, by time since release"), "Heading3")
        story.append(drawing)
        paragraph(_("Kaplan–Meier estimate; the shaded band is its 95% confidence interval."))

    buffer = io.BytesIO()
    document = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        title=_("Recidivism: %(name)s") % {"name": definition["name"]},
        author="What Works",
        leftMargin=18 * mm,
        rightMargin=18 * mm,
        topMargin=18 * mm,
        bottomMargin=18 * mm,
    )
    document.build(story)
    return buffer.getvalue(), PDF_CONTENT_TYPE


FORMATS: dict[str, Callable[[EvidenceReport], tuple[bytes, str]]] = {
    "csv": export_csv,
    "xlsx": export_xlsx,
    "pdf": export_pdf,
}
