"""X-5 cursor pages: opaque cursors, newest-first keyset conditions, literal LIKE patterns."""

import uuid
from datetime import date

import pytest
from sqlalchemy import Column, DateTime, MetaData, Table
from sqlalchemy.dialects import postgresql
from sqlalchemy.dialects.postgresql import UUID

from portal_shared.pagination import encode_cursor, like_escape, older_than, page, through_day
from portal_shared.problems import InvalidInput

rows = Table("rows", MetaData(), Column("id", UUID(as_uuid=True)), Column("created_at", DateTime(timezone=True)))


def test_first_page_has_no_condition_and_a_next_cursor_only_when_more_rows_exist():
    assert older_than(None, rows.c.created_at, rows.c.id) is None
    items = [{"id": str(i)} for i in range(3)]
    assert page(items, 3, lambda r: [r["id"]])["next_cursor"] is None
    assert page(items, 2, lambda r: [r["id"]]) == {"items": items[:2], "next_cursor": encode_cursor(["1"])}


def test_a_cursor_continues_strictly_after_the_last_row():
    cursor = encode_cursor(["2026-01-01T00:00:00+00:00", str(uuid.uuid4())])
    sql = str(older_than(cursor, rows.c.created_at, rows.c.id).compile(dialect=postgresql.dialect()))
    assert "rows.created_at <" in sql and "rows.id <" in sql


@pytest.mark.parametrize("cursor", ["not-a-cursor", encode_cursor(["yesterday", "x"]), encode_cursor(["2026-01-01T00:00:00+00:00"])])
def test_a_forged_cursor_is_invalid_input_naming_the_field(cursor):
    with pytest.raises(InvalidInput) as refused:
        older_than(cursor, rows.c.created_at, rows.c.id)
    assert refused.value.errors[0]["field"] == "cursor"


def test_like_patterns_take_user_text_literally():
    assert like_escape("50%_off\\") == "50\\%\\_off\\\\"


@pytest.mark.parametrize("values", [[1, "x"], ["x"], [None, None], ["2020-01-01T00:00:00", str(uuid.uuid4())],
                                    ["2020-01-01T00:00:00+00:00", 5], ["2020-01-01T00:00:00+00:00", "x"]])
def test_x5_a_hand_made_cursor_is_invalid_input_not_a_crash(values):
    with pytest.raises(InvalidInput):
        older_than(encode_cursor(values), rows.c.created_at, rows.c.id)


def test_x5_a_range_through_the_last_day_has_no_upper_bound():
    assert str(through_day(rows.c.created_at, date.max)) == "true"
    assert "rows.created_at <" in str(through_day(rows.c.created_at, date(2026, 1, 31)))
