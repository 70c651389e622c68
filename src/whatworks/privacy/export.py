"""The subject access export as plain data (JSON-ready), and the same data as a PDF.

Staff appear by name and role only; facilities by code and name; catalogue rows (programmes,
providers, instrument versions, groups, imports) by their name. Rows of other sections are
referred to by id, so the JSON can be joined back together.
"""

from __future__ import annotations

import datetime
import io
import json
from typing import Any
from xml.sax.saxutils import escape

from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from whatworks.accounts.models import Role, User
from whatworks.privacy.sections import PERSON_EXCLUDED_FROM_EXPORT, SECTIONS, Section
from whatworks.records.models import Facility, Person

SECTION_MODELS = {section.model_label for section in SECTIONS} | {"records.Person"}


def _staff(user: User) -> dict[str, str]:
    return {"name": user.get_full_name() or user.get_username(), "role": user.role}


def _facility(facility: Facility) -> dict[str, str]:
    return {"code": facility.code, "name": facility.name}


def _value(instance: models.Model, field: models.Field) -> Any:
    if not field.is_relation:
        return field.value_from_object(instance)
    if getattr(instance, field.attname) is None:
        return None
    target = field.related_model
    if target is User:
        return _staff(getattr(instance, field.name))
    if target is Facility:
        return _facility(getattr(instance, field.name))
    if target._meta.label in SECTION_MODELS:
        return getattr(instance, field.attname)
    return str(getattr(instance, field.name))


def row_data(instance: models.Model, exclude: tuple[str, ...] = ()) -> dict[str, Any]:
    row: dict[str, Any] = {"id": instance.pk}
    for field in instance._meta.concrete_fields:
        if field.primary_key or field.name in exclude:
            continue
        row[field.name] = _value(instance, field)
    return row


def _related(section: Section) -> list[str]:
    return [
        field.name
        for field in section.model._meta.concrete_fields
        if field.is_relation and field.related_model in (User, Facility)
    ]


def collect(person: Person) -> dict[str, Any]:
    """All data held about ``person``: {"generated_at", "person", "sections"}, JSON-ready."""
    sections = {}
    for section in SECTIONS:
        rows = section.queryset(person).select_related(*_related(section))
        sections[section.name] = [row_data(row, section.exclude) for row in rows]
    return {
        "generated_at": timezone.now(),
        "person": row_data(person, PERSON_EXCLUDED_FROM_EXPORT),
        "sections": sections,
    }


def as_json(data: dict[str, Any]) -> bytes:
    return json.dumps(data, cls=DjangoJSONEncoder, ensure_ascii=False, indent=2).encode()


# --- PDF ------------------------------------------------------------------------------------


def _display(field: models.Field | None, value: Any) -> str:
    if value is None or value == "" or value == [] or value == {}:
        return "—"
    if field is not None and field.choices and not isinstance(value, (list, dict)):
        return str(dict(field.flatchoices).get(value, value))
    if isinstance(value, dict) and set(value) == {"name", "role"}:
        role = Role(value["role"]).label if value["role"] in Role.values else value["role"]
        return f"{value['name']} ({role})"
    if isinstance(value, dict) and set(value) == {"code", "name"}:
        return f"{value['code']} · {value['name']}"
    if isinstance(value, datetime.datetime):
        return timezone.localtime(value).isoformat(timespec="minutes")
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    if isinstance(value, (list, dict)):
        return json.dumps(value, cls=DjangoJSONEncoder, ensure_ascii=False)
    return str(value)


def _pairs(model: type[models.Model], row: dict[str, Any]) -> list[list[str]]:
    fields = {field.name: field for field in model._meta.concrete_fields}
    pairs = []
    for name, value in row.items():
        field = fields.get(name)
        label = str(field.verbose_name) if field is not None and name != "id" else name
        pairs.append([label[:1].upper() + label[1:], _display(field, value)])
    return pairs


AUDIT_COLUMNS = ("created_at", "actor", "action", "object_type", "object_id")


def _audit_table(model: type[models.Model], rows: list[dict[str, Any]], cell):
    """Audit events as one table: time, who, action, object, and what changed. Plain strings
    (no Paragraph) in the short cells keep a person with thousands of events fast."""
    from reportlab.lib import colors
    from reportlab.lib.units import mm
    from reportlab.platypus import Paragraph, Table, TableStyle

    fields = {field.name: field for field in model._meta.concrete_fields}
    header = [str(fields[name].verbose_name).capitalize() for name in AUDIT_COLUMNS]
    header.append(_("Changes"))
    body = [header]
    for row in rows:
        who = _display(fields["actor"], row.get("actor"))
        if who == "—":
            who = row.get("actor_label") or "—"
        changes = {
            key: row.get(key) for key in ("before", "after") if row.get(key) not in (None, {})
        }
        body.append(
            [
                _display(fields["created_at"], row.get("created_at"))[:16].replace("T", " "),
                who[:40],
                str(row.get("action", ""))[:40],
                str(row.get("object_type", ""))[:32],
                str(row.get("object_id", ""))[:12],
                Paragraph(escape(_display(None, changes)), cell) if changes else "",
            ]
        )
    style = TableStyle(
        [
            ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ("FONTSIZE", (0, 0), (-1, -1), 7),
            ("GRID", (0, 0), (-1, -1), 0.25, colors.grey),
            ("BACKGROUND", (0, 0), (-1, 0), colors.whitesmoke),
        ]
    )
    widths = [24 * mm, 28 * mm, 30 * mm, 28 * mm, 12 * mm, 52 * mm]
    return Table(body, style=style, hAlign="LEFT", repeatRows=1, colWidths=widths)


def as_pdf(data: dict[str, Any], *, language: str | None = None) -> bytes:
    """The same sections as the JSON, headings and field names in ``language``."""
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import getSampleStyleSheet
    from reportlab.lib.units import mm
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

    styles = getSampleStyleSheet()
    cell = styles["BodyText"].clone("cell", fontSize=8, leading=10)
    story: list[Any] = []

    def paragraph(text: str, style: str = "BodyText") -> None:
        story.append(Paragraph(escape(text), styles[style]))

    def pairs_table(pairs: list[list[str]]) -> None:
        body = [
            [Paragraph(escape(key), cell), Paragraph(escape(value), cell)] for key, value in pairs
        ]
        style = TableStyle(
            [("VALIGN", (0, 0), (-1, -1), "TOP"), ("GRID", (0, 0), (-1, -1), 0.25, colors.grey)]
        )
        story.append(Table(body, style=style, hAlign="LEFT", colWidths=[55 * mm, 119 * mm]))
        story.append(Spacer(1, 3 * mm))

    with translation.override(language):
        title = _("Subject access: all data held about one person")
        paragraph(title, "Title")
        paragraph(
            _("Generated on %(time)s. Each section lists the rows held, oldest first.")
            % {"time": _display(None, data["generated_at"])}
        )
        paragraph(_("Person"), "Heading2")
        pairs_table(_pairs(Person, data["person"]))
        for section in SECTIONS:
            rows = data["sections"].get(section.name, [])
            paragraph(f"{section.title} ({len(rows)})", "Heading2")
            if not rows:
                paragraph(_("Nothing is held."))
            elif section.name == "audit_events":
                # Often the longest section: one compact row per event, not a table each.
                story.append(_audit_table(section.model, rows, cell))
            else:
                for row in rows:
                    pairs_table(_pairs(section.model, row))
        buffer = io.BytesIO()
        SimpleDocTemplate(
            buffer,
            pagesize=A4,
            title=title,
            author="What Works",
            leftMargin=18 * mm,
            rightMargin=18 * mm,
            topMargin=16 * mm,
            bottomMargin=16 * mm,
        ).build(story)
    return buffer.getvalue()
