"""Export a fitted point score as an assessment instrument (docs/instruments.md).

One risk domain ``risk`` holds every item; the total is the sum. By feature kind:

* numeric -> a ``number`` item with a lookup ``table`` of ``{min, max, score}`` rows, one per
  point band. A row's ``max`` is the band's largest value seen when fitting (or the next
  cut minus 1 for whole numbers); a value between a row's ``max`` and the next row's
  ``min`` falls in the lower row, exactly as the fit's bands do (``min <= x < next min``).
  The first row starts at 0 for a feature never negative in the data (the item's ``min``
  is then 0), otherwise at -1e9; the last row ends at 1e9.
* binary (0/1) -> a ``yes_no`` item: ``yes_score`` and ``no_score`` are the points of 1
  and 0.
* categorical -> a ``single_choice`` item whose options carry the points; an option's
  ``code`` is the category value made an identifier (``Male`` -> ``male``; values merged
  as rare share the option ``other_values``, which also takes values not seen when
  fitting), and its label is the value as written in the data.

The item ids are the feature names made identifiers; :func:`answers_for_row` maps a data
row (feature name -> value) to the answers :func:`whatworks.analytics.instruments.score`
takes, so that scoring gives exactly ``fit.total`` and ``fit.band``.
"""

from __future__ import annotations

from typing import Any

from whatworks.analytics.instruments import Instrument, load_instrument
from whatworks.analytics.instruments.model import instrument_from_mapping
from whatworks.analytics.riskmodel.features import BIG, OTHER, identifier, tidy_number
from whatworks.analytics.riskmodel.fit import PointScore
from whatworks.analytics.riskmodel.metrics import RiskModelInputError


def _same(text: str) -> dict[str, str]:
    return {"en": text, "es": text, "pt-br": text}


def _item_text(item: dict[str, Any]) -> dict[str, str]:
    name = item["label"]
    if item["kind"] == "numeric":
        return {
            "en": f"{name} (number)",
            "es": f"{name} (número)",
            "pt-br": f"{name} (número)",
        }
    if item["kind"] == "binary":
        return {
            "en": f"{name} (yes = 1, no = 0)",
            "es": f"{name} (sí = 1, no = 0)",
            "pt-br": f"{name} (sim = 1, não = 0)",
        }
    return {
        "en": f"{name} (choose the value)",
        "es": f"{name} (elija el valor)",
        "pt-br": f"{name} (escolha o valor)",
    }


def _instrument_item(item: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": item["id"],
        "type": "",
        "domain": "risk",
        "text": _item_text(item),
    }
    levels = item["levels"]
    if item["kind"] == "numeric":
        out["type"] = "number"
        first = levels[0]["min"]
        if first is not None:
            out["min"] = first
        table = []
        for position, level in enumerate(levels):
            low = -BIG if level["min"] is None else level["min"]
            if position + 1 < len(levels):
                high = level["max"] if level["max"] is not None else levels[position + 1]["min"]
            else:
                high = BIG
            table.append(
                {"min": tidy_number(low), "max": tidy_number(high), "score": level["points"]}
            )
        out["table"] = table
        out["help"] = {
            "en": "Points: " + "; ".join(f"{lv['condition']}: {lv['points']}" for lv in levels),
            "es": "Puntos: " + "; ".join(f"{lv['condition']}: {lv['points']}" for lv in levels),
            "pt-br": "Pontos: " + "; ".join(f"{lv['condition']}: {lv['points']}" for lv in levels),
        }
    elif item["kind"] == "binary":
        out["type"] = "yes_no"
        out["no_score"] = levels[0]["points"]
        out["yes_score"] = levels[1]["points"]
    else:
        out["type"] = "single_choice"
        options = []
        for level in levels:
            if level.get("value") is None:
                label = {
                    "en": "Any other value",
                    "es": "Cualquier otro valor",
                    "pt-br": "Qualquer outro valor",
                }
            else:
                label = _same(str(level["value"]))
            options.append({"code": level["code"], "label": label, "score": level["points"]})
        out["options"] = options
    return out


def to_instrument(
    fit: PointScore,
    *,
    slug: str,
    version: str,
    name: str,
    data_description: str,
    outcome_definition: str,
    period: str = "",
) -> dict[str, Any]:
    """A mapping valid for ``instrument_from_mapping``: items, a ``risk`` domain, total =
    sum, the fit's bands, ``validated: true`` with the out-of-fold ``validation``."""
    auc = fit.metrics["auc"]
    settings = fit.settings
    folds = settings.get("folds", "?")
    note = {
        "en": (
            f"Fitted and validated on local data ({data_description}); outcome: "
            f"{outcome_definition}. Cross-validated AUC {auc['value']:.3f} "
            f"({auc['low']:.3f} to {auc['high']:.3f}), {fit.data.get('n')} people, "
            f"{fit.data.get('events')} events. Re-validate before using it on another "
            "population or period."
        ),
        "es": (
            f"Ajustado y validado con datos locales ({data_description}); resultado: "
            f"{outcome_definition}. AUC con validación cruzada {auc['value']:.3f} "
            f"({auc['low']:.3f} a {auc['high']:.3f}), {fit.data.get('n')} personas, "
            f"{fit.data.get('events')} eventos. Vuelva a validarlo antes de usarlo en otra "
            "población o período."
        ),
        "pt-br": (
            f"Ajustado e validado com dados locais ({data_description}); desfecho: "
            f"{outcome_definition}. AUC com validação cruzada {auc['value']:.3f} "
            f"({auc['low']:.3f} a {auc['high']:.3f}), {fit.data.get('n')} pessoas, "
            f"{fit.data.get('events')} eventos. Valide de novo antes de usá-lo em outra "
            "população ou período."
        ),
    }
    validation: dict[str, Any] = {
        "data": data_description,
        "outcome": outcome_definition,
        "n": int(fit.data["n"]),
        "events": int(fit.data["events"]),
        "auc": float(auc["value"]),
        "auc_low": float(auc["low"]),
        "auc_high": float(auc["high"]),
        "method": f"{folds}-fold stratified cross-validation, seed {settings.get('seed')}",
        "fitted_on": "all rows; metrics out-of-fold",
    }
    if period:
        validation["period"] = period
    if "brier" in fit.metrics:
        validation["brier"] = float(fit.metrics["brier"])
    if "ece" in fit.metrics:
        validation["ece"] = float(fit.metrics["ece"])
    return {
        "schema_version": 1,
        "slug": slug,
        "version": version,
        "name": _same(name),
        "description": {
            "en": f"Point score for {outcome_definition}, fitted on {data_description}.",
            "es": f"Puntaje para {outcome_definition}, ajustado con {data_description}.",
            "pt-br": (
                f"Escore de pontos para {outcome_definition}, ajustado com {data_description}."
            ),
        },
        "citation": (
            "Fitted with What Works riskmodel (penalised logistic regression rounded to integer "
            f"points; max_items {settings.get('max_items')}, max_points "
            f"{settings.get('max_points')}, seed {settings.get('seed')}) on {data_description}."
        ),
        "licence": "Local instrument fitted on the service's own data; see its model card.",
        "validated": True,
        "validation_note": note,
        "validation": validation,
        "domains": [
            {
                "id": "risk",
                "name": {"en": "Risk points", "es": "Puntos de riesgo", "pt-br": "Pontos de risco"},
            }
        ],
        "items": [_instrument_item(item) for item in fit.items],
        "total": {"method": "sum"},
        "bands": [
            {"code": b["code"], "label": dict(b["label"]), "min": b["min"], "max": b["max"]}
            for b in fit.bands
        ],
    }


def _instrument(instrument: Any) -> Instrument:
    if isinstance(instrument, Instrument):
        return instrument
    if isinstance(instrument, dict):
        return instrument_from_mapping(instrument)
    return load_instrument(instrument)


def _python(value: Any) -> Any:
    if hasattr(value, "item") and callable(value.item):
        return value.item()
    return value


def answers_for_row(instrument: Any, row: dict[str, Any]) -> dict[str, Any]:
    """The answers (item id -> answer) for one data row (column name -> value), to pass to
    :func:`whatworks.analytics.instruments.score`. Columns are matched to items by the
    item id (the column name made an identifier)."""
    inst = _instrument(instrument)
    by_id = {identifier(column): column for column in row}
    answers: dict[str, Any] = {}
    for item in inst.items:
        if item.id not in by_id:
            raise RiskModelInputError(
                f"no column for item {item.id!r}; columns: {', '.join(map(str, row))}"
            )
        column = by_id[item.id]
        value = _python(row[column])
        if value is None:
            answers[item.id] = None
            continue
        if item.type == "number":
            if isinstance(value, str):
                try:
                    value = float(value)
                except ValueError:
                    raise RiskModelInputError(
                        f"column {column!r}: expected a number, got {value!r}"
                    ) from None
            if isinstance(value, bool):
                value = int(value)
            answers[item.id] = tidy_number(value) if isinstance(value, float) else value
        elif item.type == "yes_no":
            if isinstance(value, str) and value.strip() in ("0", "1"):
                value = int(value)
            if value not in (0, 1) and value is not True and value is not False:
                raise RiskModelInputError(f"column {column!r}: expected 0 or 1, got {value!r}")
            answers[item.id] = bool(value)
        elif item.type == "single_choice":
            code = identifier(str(value))
            codes = [option.code for option in item.options]
            if code in codes:
                answers[item.id] = codes.index(code)
            elif OTHER in codes:  # rare values merged when fitting, and unseen values
                answers[item.id] = codes.index(OTHER)
            else:
                raise RiskModelInputError(
                    f"column {column!r}: value {value!r} is not an option of item "
                    f"{item.id!r} ({', '.join(str(c) for c in codes)})"
                )
        else:
            answers[item.id] = value
    return answers
