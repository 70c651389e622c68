"""The report's translatable sentences stay identical to the analytics package's English."""

from django.utils import translation

from whatworks.analytics.evaluation.text import TEXT, fields, report_texts, texts
from whatworks.evaluation.report_text import REPORT_TEXT, translated_report_texts


def test_the_app_has_every_report_sentence_word_for_word():
    with translation.override("en"):
        assert {key: str(sentence) for key, sentence in REPORT_TEXT.items()} == TEXT


def test_translated_sentences_keep_their_fields_and_are_used():
    with translation.override("es"):
        translated = translated_report_texts()
    assert all(fields(translated[key]) == fields(TEXT[key]) for key in TEXT)
    with report_texts(translated):
        assert texts()["not_reported"] == translated["not_reported"]
    assert texts()["not_reported"] == TEXT["not_reported"]


def test_a_translation_that_breaks_a_field_falls_back_to_english():
    key = next(key for key, sentence in TEXT.items() if fields(sentence))
    with report_texts({key: "sin campos"}):
        assert texts()[key] == TEXT[key]
