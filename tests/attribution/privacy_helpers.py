"""A search of the whole database for identifiers: every text, varchar, jsonb and inet column of
every table, case-insensitively, and the rollups' callers as the digits' bigint."""

from django.db import connection

TEXT_TYPES = ("text", "character varying", "jsonb", "json", "inet")


def found_anywhere(needles) -> list[tuple[str, str, str]]:
    """(table, column, needle) for every column holding one of the needles anywhere."""
    with connection.cursor() as cursor:
        cursor.execute(
            """SELECT table_name, column_name FROM information_schema.columns
               WHERE table_schema = 'public' AND data_type = ANY(%s)
               ORDER BY table_name, column_name""",
            [list(TEXT_TYPES)],
        )
        columns = cursor.fetchall()
        hits = []
        patterns = [f"%{needle}%" for needle in needles]
        for table, column in columns:
            cursor.execute(
                f"""SELECT p FROM unnest(%s::text[]) AS p
                    WHERE EXISTS (SELECT 1 FROM "{table}" WHERE "{column}"::text ILIKE p)""",
                [patterns],
            )
            hits += [(table, column, p.strip("%")) for (p,) in cursor.fetchall()]
    return hits


def rollup_callers(account) -> set[int]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT DISTINCT caller FROM attribution_rollupcallerday WHERE account_id = %s",
            [account.pk],
        )
        return {row[0] for row in cursor.fetchall()}
