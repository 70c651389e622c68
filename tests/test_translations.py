"""Every user-facing string is translated into Spanish and Brazilian Portuguese.

The first test re-extracts the messages from the current source (as `makemessages` would)
into a copy of the catalogues, so a new untranslated string fails the suite. The second checks
that the compiled .mo files that ship with the package match the .po sources.
"""

import shutil
from pathlib import Path

import polib
import pytest
from django.core.management import call_command
from django.utils import translation

PACKAGE = Path(__file__).resolve().parent.parent / "src" / "whatworks"
LANGUAGES = ["es", "pt_BR"]


def _problems(po: polib.POFile) -> list[str]:
    untranslated = [entry.msgid for entry in po.untranslated_entries()]
    fuzzy = [entry.msgid for entry in po.fuzzy_entries()]
    return [f"untranslated: {m!r}" for m in untranslated] + [f"fuzzy: {m!r}" for m in fuzzy]


@pytest.mark.skipif(shutil.which("xgettext") is None, reason="GNU gettext is not installed")
def test_every_string_in_the_source_is_translated(tmp_path, settings, monkeypatch):
    copy = tmp_path / "whatworks"
    shutil.copytree(
        PACKAGE, copy, ignore=shutil.ignore_patterns("__pycache__", "analytics", "static")
    )
    settings.LOCALE_PATHS = [copy / "locale"]
    monkeypatch.chdir(copy)
    call_command("makemessages", locale=LANGUAGES, verbosity=0, no_obsolete=True)
    for language in LANGUAGES:
        po = polib.pofile(str(copy / "locale" / language / "LC_MESSAGES" / "django.po"))
        assert _problems(po) == [], language


@pytest.mark.parametrize("language", LANGUAGES)
def test_compiled_catalogues_match_their_sources(language):
    folder = PACKAGE / "locale" / language / "LC_MESSAGES"
    po = polib.pofile(str(folder / "django.po"))
    mo = polib.mofile(str(folder / "django.mo"))
    assert _problems(po) == []
    expected = {(e.msgctxt, e.msgid): (e.msgstr, e.msgstr_plural) for e in po.translated_entries()}
    compiled = {(e.msgctxt, e.msgid): (e.msgstr, e.msgstr_plural) for e in mo}
    missing = {key for key in expected if compiled.get(key) != expected[key]}
    assert not missing, f"recompile {language}: {sorted(missing)[:5]}"


@pytest.mark.parametrize("language", ["es", "pt-br"])
def test_labels_are_shown_in_the_users_language(language):
    from whatworks.records.choices import ReleaseType

    with translation.override("en"):
        english = str(ReleaseType.END_OF_SENTENCE.label)
    with translation.override(language):
        assert str(ReleaseType.END_OF_SENTENCE.label) not in ("", english)
