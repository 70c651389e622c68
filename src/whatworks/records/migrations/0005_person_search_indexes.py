"""Indexes for the person search (records.selectors.person_list, `q`) on PostgreSQL.

The search matches any word of the query anywhere in the names or the prison number
(icontains, which Django writes as UPPER(column::text) LIKE UPPER('%word%')) or the national
ID exactly (iexact). Without indexes every search read all persons: about 190 ms for one
prison number among 100,000 (docs/load.md). Trigram GIN indexes serve the LIKE '%…%' arms and
a btree on UPPER(national_id) the exact arm, so PostgreSQL combines them in a BitmapOr (5 ms).
The expressions are written exactly as Django's lookups produce them, so that the planner
matches them.

pg_trgm is a trusted extension (PostgreSQL 13+): the database owner may create it. Where it
cannot be created, the search keeps working without the trigram index (only slower) and the
migration says so instead of failing. SQLite needs neither index at its scale.
"""

from django.db import DatabaseError, migrations, transaction

TRIGRAM_INDEX = (
    "CREATE INDEX IF NOT EXISTS person_search_trgm ON records_person USING gin ("
    "UPPER(first_names::text) gin_trgm_ops, "
    "UPPER(last_names::text) gin_trgm_ops, "
    "UPPER(prison_number::text) gin_trgm_ops)"
)
NATIONAL_ID_INDEX = (
    "CREATE INDEX IF NOT EXISTS person_national_id_upper ON records_person "
    "(UPPER(national_id::text))"
)


def create_search_indexes(apps, schema_editor):
    connection = schema_editor.connection
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        cursor.execute(NATIONAL_ID_INDEX)
        try:
            with transaction.atomic(using=connection.alias):
                cursor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        except DatabaseError as error:
            print(  # shown once, by `whatworks migrate`
                f"\n  pg_trgm unavailable ({error}); person search stays unindexed."
            )
            return
        cursor.execute(TRIGRAM_INDEX)


def drop_search_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        cursor.execute("DROP INDEX IF EXISTS person_search_trgm")
        cursor.execute("DROP INDEX IF EXISTS person_national_id_upper")


class Migration(migrations.Migration):
    dependencies = [
        ("records", "0004_person_list_order_indexes"),
    ]

    operations = [
        migrations.RunPython(create_search_indexes, drop_search_indexes, elidable=False),
    ]
