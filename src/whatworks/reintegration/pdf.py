"""The release summary as a PDF (reportlab), rendered from the same plain data as the
printable page, so the two never disagree."""

from __future__ import annotations

import io
from typing import Any
from xml.sax.saxutils import escape

from django.utils import translation
from django.utils.translation import gettext as _


def summary_pdf(summary: dict[str, Any]) -> bytes:
    """A PDF of ``selectors.release_summary(...)`` (or a stored handover's summary), with its
    headings in the summary's language."""
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import getSampleStyleSheet
    from reportlab.lib.units import mm
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Table, TableStyle

    styles = getSampleStyleSheet()
    cell = styles["BodyText"].clone("cell", fontSize=8, leading=10)
    story: list[Any] = []

    def paragraph(text: str, style: str = "BodyText") -> None:
        story.append(Paragraph(escape(text), styles[style]))

    def table(rows: list[list[str]], *, header: list[str]) -> None:
        body = [[Paragraph(escape(str(value)), cell) for value in row] for row in rows]
        data = ([[Paragraph(f"<b>{escape(h)}</b>", cell) for h in header]] if header else []) + body
        style = [
            ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ("GRID", (0, 0), (-1, -1), 0.25, colors.grey),
        ]
        if header:
            style.append(("BACKGROUND", (0, 0), (-1, 0), colors.whitesmoke))
        story.append(
            Table(
                data,
                style=TableStyle(style),
                hAlign="LEFT",
                repeatRows=1 if header else 0,
                colWidths=[174 * mm / max(len(data[0]), 1)] * len(data[0]),
            )
        )

    with translation.override(summary.get("language")):
        paragraph(summary["title"], "Title")
        paragraph(
            _("For: %(recipient)s. Prepared on %(date)s.")
            % {"recipient": summary["recipient"], "date": summary["generated_on"]}
        )
        table(summary["facts"], header=[])
        for section in summary["sections"]:
            paragraph(section["title"], "Heading3")
            if section["rows"]:
                table(section["rows"], header=section["header"])
            elif section["empty"]:
                paragraph(section["empty"])
        buffer = io.BytesIO()
        document = SimpleDocTemplate(
            buffer,
            pagesize=A4,
            title=summary["title"],
            author="What Works",
            leftMargin=18 * mm,
            rightMargin=18 * mm,
            topMargin=16 * mm,
            bottomMargin=16 * mm,
        )
        document.build(story)
    return buffer.getvalue()
