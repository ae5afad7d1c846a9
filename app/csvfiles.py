"""Uploaded CSV files, read the same way everywhere (locations, visit assignments, survey answers)."""
import csv
import io


def decode(data: bytes) -> str:
    """Return the text of an uploaded CSV: UTF-8 (with or without BOM), else Windows-1251 (Russian Excel)."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("cp1251", errors="replace")


def delimiter_of(text: str) -> str:
    """Return the file's delimiter, read off its header line, where no value can hide one: ";" as Excel
    saves CSV in Russian, a tab from a table copied out of a spreadsheet, else ","."""
    header = next((line for line in text.splitlines() if line.strip()), "")
    counts = {delimiter: header.count(delimiter) for delimiter in (",", ";", "\t")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


def read_rows(text: str) -> list[tuple[int, list[str]]]:
    """Return (line number, cells) of every row that has any content, the header included."""
    reader = csv.reader(io.StringIO(text), delimiter=delimiter_of(text[:4096]))
    return [(reader.line_num, row) for row in reader if any(cell.strip() for cell in row)]
