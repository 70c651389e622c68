"""Reading and checking a police or court outcome extract (CSV or XLSX), before any write.

``parse_extract`` reads the whole file, applies the mapping (their column names and event
codes to ours), and checks every row, collecting every problem at once. Each problem names
the column and the row: ``row`` is the 0-based index of the data row (the first row after the
header is 0); messages for people say "data row N (index N-1)" so a spreadsheet user and a
program both find it.

Nothing here touches the database; ``services.outcome_import`` does the linking and writing.
"""

from __future__ import annotations

import csv
import datetime
import hashlib
import io
import re
import unicodedata
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import yaml
from django.utils.translation import gettext as _

from whatworks.records.choices import OutcomeEventType, OutcomeSource

REQUIRED_COLUMNS = (
    "first_name",
    "last_name",
    "date_of_birth",
    "event_type",
    "event_date",
    "source_reference",
)
OPTIONAL_COLUMNS = ("national_id", "prison_number", "offence_date", "source")
KNOWN_COLUMNS = REQUIRED_COLUMNS + OPTIONAL_COLUMNS

# Where an event type comes from when neither the file nor the mapping names a source.
DEFAULT_SOURCES = {
    OutcomeEventType.REARREST: OutcomeSource.POLICE,
    OutcomeEventType.CHARGE: OutcomeSource.PROSECUTION,
    OutcomeEventType.RECONVICTION: OutcomeSource.COURT,
    OutcomeEventType.REINCARCERATION: OutcomeSource.PRISON_SERVICE,
    OutcomeEventType.TECHNICAL_VIOLATION: OutcomeSource.PROBATION,
}

# Field lengths of the records they end up in (Person, OutcomeEvent, LinkReview).
MAX_LENGTHS = {
    "first_name": 150,
    "last_name": 150,
    "national_id": 32,
    "prison_number": 32,
    "source_reference": 100,
}

ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
DAY_FIRST_DATE = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})$")
XLSX_MAGIC = b"PK\x03\x04"
# Files that are neither CSV nor XLSX but are often picked by mistake (or on purpose):
# legacy Excel (OLE2), PDF, gzip, 7-Zip, RAR.
OTHER_MAGIC = (b"\xd0\xcf\x11\xe0", b"%PDF", b"\x1f\x8b", b"7z\xbc\xaf", b"Rar!")
CSV_DELIMITERS = ",;\t|"


class ExtractFileError(Exception):
    """The file or the mapping cannot be read at all (not a per-row problem)."""


@dataclass(frozen=True)
class RowError:
    row: int | None  # 0-based data row index; None for the header
    column: str
    message: str

    def as_dict(self) -> dict[str, Any]:
        return {"row": self.row, "column": self.column, "message": self.message}

    def as_text(self, file_name: str) -> str:
        if self.row is None:
            where = _("header")
        else:
            where = _("data row %(number)s (index %(index)s)") % {
                "number": self.row + 1,
                "index": self.row,
            }
        return _("%(file)s: %(where)s, column %(column)s: %(message)s") % {
            "file": file_name,
            "where": where,
            "column": self.column,
            "message": self.message,
        }


@dataclass(frozen=True)
class Mapping:
    """How one supplier's extract maps onto ours (a small YAML file)."""

    columns: dict[str, str] = field(default_factory=dict)
    event_types: dict[str, str] = field(default_factory=dict)
    source: str | None = None
    date_format: str | None = None


@dataclass(frozen=True)
class ExtractRow:
    row: int
    first_name: str
    last_name: str
    date_of_birth: datetime.date
    national_id: str
    prison_number: str
    event_type: str
    event_date: datetime.date
    offence_date: datetime.date | None
    source: str
    source_reference: str

    @property
    def source_key(self) -> str:
        return source_key(self.source, self.source_reference)

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        for name in ("date_of_birth", "event_date", "offence_date"):
            data[name] = data[name].isoformat() if data[name] else None
        return data


@dataclass
class Extract:
    file_name: str
    sha256: str
    encoding: str
    rows: list[ExtractRow]
    errors: list[RowError]

    @property
    def sources(self) -> set[str]:
        return {row.source for row in self.rows}


def source_key(source: str, reference: str) -> str:
    """The stable key of an extract row: the same (source, reference) is the same event."""
    return hashlib.sha256(f"outcome-import:{source}:{reference}".encode()).hexdigest()


# --- the mapping file ---------------------------------------------------------------------


def load_mapping(path: Path) -> Mapping:
    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    except (OSError, UnicodeDecodeError) as error:
        raise ExtractFileError(
            _("%(file)s: cannot read the mapping file (%(error)s)") % {"file": path, "error": error}
        ) from None
    except yaml.YAMLError as error:
        raise ExtractFileError(
            _("%(file)s: the mapping file is not valid YAML (%(error)s)")
            % {"file": path, "error": error}
        ) from None
    return mapping_from_dict(data, name=str(path))


def mapping_from_dict(data: Any, *, name: str = "mapping") -> Mapping:
    problems: list[str] = []
    if not isinstance(data, dict):
        raise ExtractFileError(_("%(file)s: the mapping must be a YAML mapping") % {"file": name})
    unknown_keys = sorted(set(data) - {"columns", "event_types", "source", "date_format"})
    if unknown_keys:
        problems.append(_("unknown key(s) %(keys)s") % {"keys": ", ".join(map(str, unknown_keys))})
    columns = data.get("columns") or {}
    event_types = data.get("event_types") or {}
    if not isinstance(columns, dict):
        problems.append(_("columns must map their column names to ours"))
        columns = {}
    if not isinstance(event_types, dict):
        problems.append(_("event_types must map their codes to ours"))
        event_types = {}
    for theirs, ours in columns.items():
        if ours not in KNOWN_COLUMNS:
            problems.append(
                _("columns: %(theirs)s maps to %(ours)s, which is not one of %(known)s")
                % {"theirs": theirs, "ours": ours, "known": ", ".join(KNOWN_COLUMNS)}
            )
    for theirs, ours in event_types.items():
        if ours not in OutcomeEventType.values:
            problems.append(
                _("event_types: %(theirs)s maps to %(ours)s, which is not one of %(known)s")
                % {"theirs": theirs, "ours": ours, "known": ", ".join(OutcomeEventType.values)}
            )
    source = data.get("source")
    if source is not None and source not in OutcomeSource.values:
        problems.append(
            _("source %(source)s is not one of %(known)s")
            % {"source": source, "known": ", ".join(OutcomeSource.values)}
        )
    date_format = data.get("date_format")
    if date_format is not None and (not isinstance(date_format, str) or "%" not in date_format):
        problems.append(
            _("date_format must be a strptime format such as %(example)s") % {"example": "%d/%m/%Y"}
        )
    if problems:
        raise ExtractFileError(f"{name}: " + "; ".join(problems))
    return Mapping(
        columns={str(k).strip(): str(v) for k, v in columns.items()},
        event_types={str(k).strip(): str(v) for k, v in event_types.items()},
        source=source,
        date_format=date_format,
    )


# --- reading the table --------------------------------------------------------------------


def decode(data: bytes) -> tuple[str, str]:
    """Text and the encoding used: UTF-8 (with or without BOM), else Windows-1252, else
    Latin-1 (which decodes any byte, so a file always reads)."""
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8"), "utf-8-sig"
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp1252"), "cp1252"
    except UnicodeDecodeError:
        return data.decode("latin-1"), "latin-1"


def _cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime.datetime):
        return value.date().isoformat()
    if isinstance(value, datetime.date):
        return value.isoformat()
    return str(value).strip()


def max_import_mb() -> int:
    """The largest extract ``read_table`` accepts, in MB (setting WHATWORKS_MAX_IMPORT_MB)."""
    from django.conf import settings

    return int(getattr(settings, "WHATWORKS_MAX_IMPORT_MB", 200))


def read_table(path: Path) -> tuple[list[str], list[list[Any]], str, str]:
    """(header, data rows, encoding, sha256) of a CSV or XLSX file.

    The size is checked before reading (``WHATWORKS_MAX_IMPORT_MB``) and the type by content,
    not by name: an XLSX workbook (a zip) or text without NUL bytes (CSV); anything else is
    refused, naming the file."""
    try:
        size = Path(path).stat().st_size
    except OSError as error:
        raise ExtractFileError(
            _("%(file)s: cannot read the file (%(error)s)") % {"file": path, "error": error}
        ) from None
    limit_mb = max_import_mb()
    if size > limit_mb * 1024 * 1024:
        raise ExtractFileError(
            _(
                "%(file)s: the file is %(size).1f MB, above the import limit of %(limit)s MB "
                "(WHATWORKS_MAX_IMPORT_MB); split it or raise the limit"
            )
            % {"file": path, "size": size / (1024 * 1024), "limit": limit_mb}
        )
    try:
        data = Path(path).read_bytes()
    except OSError as error:
        raise ExtractFileError(
            _("%(file)s: cannot read the file (%(error)s)") % {"file": path, "error": error}
        ) from None
    digest = hashlib.sha256(data).hexdigest()
    if data.startswith(XLSX_MAGIC):
        header, rows = _read_xlsx(path, data)
        return header, rows, "xlsx", digest
    if data.startswith(OTHER_MAGIC) or b"\x00" in data[:8192]:
        raise ExtractFileError(
            _("%(file)s: not a CSV or XLSX file (its content is neither)") % {"file": path}
        )
    text, encoding = decode(data)
    if not text.strip():
        raise ExtractFileError(_("%(file)s: the file is empty") % {"file": path})
    first_line = text.splitlines()[0]
    delimiter = max(CSV_DELIMITERS, key=first_line.count)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        table = list(reader)
    except csv.Error as error:
        raise ExtractFileError(
            _("%(file)s: not a readable CSV file (%(error)s)") % {"file": path, "error": error}
        ) from None
    return table[0], table[1:], encoding, digest


def _read_xlsx(path: Path, data: bytes) -> tuple[list[str], list[list[Any]]]:
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as error:  # openpyxl raises many kinds for a damaged file
        raise ExtractFileError(
            _("%(file)s: not a readable XLSX workbook (%(error)s)") % {"file": path, "error": error}
        ) from None
    try:
        sheet = workbook.worksheets[0]
        table = [list(row) for row in sheet.iter_rows(values_only=True)]
    finally:
        workbook.close()
    while table and all(value in (None, "") for value in table[-1]):
        table.pop()
    if not table:
        raise ExtractFileError(_("%(file)s: the workbook's first sheet is empty") % {"file": path})
    return [_cell_text(value) for value in table[0]], table[1:]


# --- checking the rows --------------------------------------------------------------------


def _folded(text: str) -> str:
    return unicodedata.normalize("NFKC", text).strip().casefold()


def _lookup(table: dict[str, str], key: str) -> str | None:
    if key in table:
        return table[key]
    folded = {_folded(k): v for k, v in table.items()}
    return folded.get(_folded(key))


def parse_date(value: Any, date_format: str | None = None) -> datetime.date | None:
    """A date from a cell; None when empty. Raises ValueError when it cannot be read."""
    if isinstance(value, datetime.datetime):
        return value.date()
    if isinstance(value, datetime.date):
        return value
    text = _cell_text(value)
    if not text:
        return None
    if date_format:
        return datetime.datetime.strptime(text, date_format).date()
    if ISO_DATE.match(text):
        return datetime.date.fromisoformat(text)
    match = DAY_FIRST_DATE.match(text)
    if match:
        day, month, year = (int(part) for part in match.groups())
        return datetime.date(year, month, day)
    raise ValueError(text)


def parse_extract(
    path: Path,
    *,
    mapping: Mapping | None = None,
    today: datetime.date,
    file_name: str | None = None,
) -> Extract:
    """Read and check a whole extract. Problems are collected, never raised (except when the
    file itself cannot be read: ``ExtractFileError``)."""
    mapping = mapping or Mapping()
    name = file_name or Path(path).name
    header, raw_rows, encoding, digest = read_table(Path(path))
    errors: list[RowError] = []

    positions: dict[str, int] = {}
    for position, heading in enumerate(header):
        heading = _cell_text(heading).lstrip("\ufeff")
        if not heading:
            continue
        ours = _lookup(mapping.columns, heading) or heading.strip().lower()
        if ours not in KNOWN_COLUMNS:
            continue  # extra columns are ignored
        if ours in positions:
            errors.append(RowError(None, ours, _("The column appears twice (after the mapping).")))
            continue
        positions[ours] = position
    for column in REQUIRED_COLUMNS:
        if column not in positions:
            errors.append(RowError(None, column, _("The required column is missing.")))
    if errors:
        return Extract(name, digest, encoding, [], errors)

    rows: list[ExtractRow] = []
    seen: dict[tuple[str, str], int] = {}
    for index, raw in enumerate(raw_rows):
        if all(_cell_text(value) == "" for value in raw):
            continue  # blank lines keep their number but are not rows

        def cell(column: str, raw=raw) -> Any:
            position = positions.get(column)
            if position is None or position >= len(raw):
                return None
            return raw[position]

        row_errors: list[RowError] = []

        def problem(column: str, message: str, index=index, row_errors=row_errors) -> None:
            row_errors.append(RowError(index, column, message))

        texts = {
            column: _cell_text(cell(column))
            for column in (
                "first_name",
                "last_name",
                "national_id",
                "prison_number",
                "source_reference",
            )
        }
        for column in ("first_name", "last_name", "source_reference"):
            if not texts[column]:
                problem(column, _("This value is empty; it is required."))
        for column, limit in MAX_LENGTHS.items():
            if len(texts[column]) > limit:
                problem(
                    column,
                    _("At most %(limit)s characters; this has %(length)s.")
                    % {"limit": limit, "length": len(texts[column])},
                )

        dates: dict[str, datetime.date | None] = {}
        for column in ("date_of_birth", "event_date", "offence_date"):
            value = cell(column)
            try:
                dates[column] = parse_date(value, mapping.date_format)
            except ValueError:
                dates[column] = None
                if mapping.date_format:
                    problem(
                        column,
                        _("“%(value)s” is not a date in the mapping's format %(format)s.")
                        % {"value": _cell_text(value), "format": mapping.date_format},
                    )
                else:
                    problem(
                        column,
                        _("“%(value)s” is not a date; write YYYY-MM-DD or DD/MM/YYYY.")
                        % {"value": _cell_text(value)},
                    )
                continue
            if dates[column] is None and column != "offence_date":
                problem(column, _("This value is empty; it is required."))
        birth, event, offence = dates["date_of_birth"], dates["event_date"], dates["offence_date"]
        if event and event > today:
            problem("event_date", _("The event date is in the future."))
        if offence and offence > today:
            problem("offence_date", _("The offence date is in the future."))
        if birth and birth > today:
            problem("date_of_birth", _("The date of birth is in the future."))
        if birth and event and event < birth:
            problem("event_date", _("The event date is before the date of birth."))
        if birth and offence and offence < birth:
            problem("offence_date", _("The offence date is before the date of birth."))
        if offence and event and offence > event:
            problem("offence_date", _("The offence date is after the event date."))

        their_type = _cell_text(cell("event_type"))
        event_type = _lookup(mapping.event_types, their_type) if their_type else None
        event_type = event_type or their_type.lower()
        if not their_type:
            problem("event_type", _("This value is empty; it is required."))
        elif event_type not in OutcomeEventType.values:
            problem(
                "event_type",
                _("Unknown event type “%(value)s”; use one of %(known)s or map it.")
                % {"value": their_type, "known": ", ".join(OutcomeEventType.values)},
            )
        elif event_type == OutcomeEventType.TECHNICAL_VIOLATION and offence:
            problem("offence_date", _("A technical violation has no offence date."))

        their_source = _cell_text(cell("source")).lower()
        source = their_source or mapping.source or DEFAULT_SOURCES.get(event_type, "")
        if their_source and their_source not in OutcomeSource.values:
            problem(
                "source",
                _("Unknown source “%(value)s”; use one of %(known)s.")
                % {"value": their_source, "known": ", ".join(OutcomeSource.values)},
            )
        reference = texts["source_reference"]
        if reference and source:
            first = seen.setdefault((source, reference), index)
            if first != index:
                problem(
                    "source_reference",
                    _("This reference already appears on data row %(number)s (index %(index)s).")
                    % {"number": first + 1, "index": first},
                )

        if row_errors:
            errors.extend(row_errors)
            continue
        rows.append(
            ExtractRow(
                row=index,
                first_name=texts["first_name"],
                last_name=texts["last_name"],
                date_of_birth=birth,
                national_id=texts["national_id"],
                prison_number=texts["prison_number"],
                event_type=event_type,
                event_date=event,
                offence_date=offence,
                source=source,
                source_reference=reference,
            )
        )
    if not rows and not errors:
        errors.append(RowError(None, "", _("The file has no data rows.")))
    return Extract(name, digest, encoding, rows, errors)
