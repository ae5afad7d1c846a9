"""Uploaded CSV files: one reading rule for locations, assignments and survey answers."""
import pytest

from app import csvfiles


@pytest.mark.parametrize("text, cells", [
    ("code,name\nMSK01,Арбат\n", ["MSK01", "Арбат"]),
    ("code;name\nMSK01;Арбат, 1\n", ["MSK01", "Арбат, 1"]),  # Russian Excel: semicolons, commas in values
    ("code\tname\nMSK01\tАрбат, 1; угол\n", ["MSK01", "Арбат, 1; угол"]),  # copied out of a spreadsheet
    ('code,name\nMSK01,"Арбат; 1"\n', ["MSK01", "Арбат; 1"]),
])
def test_the_delimiter_is_read_off_the_header_so_values_may_hold_the_others(text, cells):
    assert csvfiles.read_rows(text) == [(1, ["code", "name"]), (2, cells)]


def test_empty_rows_are_skipped_and_line_numbers_are_the_files_own():
    text = "code;name\n\n;\nMSK01;Арбат\n"
    assert csvfiles.read_rows(text) == [(1, ["code", "name"]), (4, ["MSK01", "Арбат"])]


@pytest.mark.parametrize("data", ["code;name\nMSK01;Арбат\n".encode("utf-8-sig"),
                                  "code;name\nMSK01;Арбат\n".encode("cp1251")])
def test_utf8_with_or_without_bom_and_windows_1251_are_read_as_the_same_text(data):
    assert csvfiles.decode(data) == "code;name\nMSK01;Арбат\n"
