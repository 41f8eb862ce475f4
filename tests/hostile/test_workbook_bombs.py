"""Hostile workbooks: decompression bombs, entity expansion, far-apart cells, tables past a cap.

Every one gives a one-line DataValidationError (exit 2 on the command line) quickly, before the file
can cost memory or minutes; the same guard serves the CLI and the web app's uploads.
"""

from __future__ import annotations

import io
import re
import time
import zipfile

import pytest

from metapool.exceptions import DataValidationError
from metapool.io import tables
from metapool.io.tables import check_office_archive, read_table

SHEET = "xl/worksheets/sheet1.xml"


def _workbook(rows) -> bytes:
    import openpyxl

    book = openpyxl.Workbook()
    for row in rows:
        book.active.append(row)
    buf = io.BytesIO()
    book.save(buf)
    return buf.getvalue()


def _replace(data: bytes, changes: dict, compression=zipfile.ZIP_DEFLATED) -> bytes:
    """The workbook ``data`` with some members replaced (or added)."""
    src = zipfile.ZipFile(io.BytesIO(data))
    members = {n: src.read(n) for n in src.namelist()}
    members.update(changes)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression) as z:
        for name, content in members.items():
            z.writestr(name, content)
    return buf.getvalue()


def _write(tmp_path, data: bytes, name="s.xlsx"):
    path = tmp_path / name
    path.write_bytes(data)
    return path


GOOD = _workbook([["study", "ai", "n1i"], ["A", 1, 10], ["B", 2, 20]])


def test_a_real_workbook_passes_the_guard(tmp_path):
    check_office_archive("s.xlsx", GOOD)
    assert read_table(_write(tmp_path, GOOD)).n_rows == 2


def test_a_highly_compressed_member_is_refused_before_openpyxl_opens_it(tmp_path):
    bomb = _replace(GOOD, {"xl/media/padding.bin": bytes(8 * 1024 * 1024)})  # 8 MB of zeros: ~1000 times
    assert len(bomb) < 100_000
    with pytest.raises(DataValidationError, match=r"s\.xlsx was refused as a possible decompression bomb: its part "
                                                  r"'xl/media/padding\.bin' is compressed [\d,]+ times"):
        read_table(_write(tmp_path, bomb))


def test_too_much_uncompressed_data_is_refused(tmp_path, monkeypatch):
    monkeypatch.setattr(tables, "WORKBOOK_MAX_UNCOMPRESSED", 1_000_000)
    big = _replace(GOOD, {"xl/media/noise.bin": bytes(range(256)) * 5000}, zipfile.ZIP_STORED)
    with pytest.raises(DataValidationError, match=r"unpacks to 1 MB, more than the 0 MB metapool reads; save the "
                                                  r"table as CSV"):
        read_table(_write(tmp_path, big))


def test_too_many_members_are_refused(tmp_path):
    many = _replace(GOOD, {f"xl/x/{i}.xml": b"<a/>" for i in range(1001)})
    with pytest.raises(DataValidationError, match=r"holds 1,0\d\d files, more than the 1,000"):
        read_table(_write(tmp_path, many))


def test_a_damaged_archive_is_refused_by_the_guard():
    with pytest.raises(DataValidationError, match=r"its ZIP archive is damaged"):
        check_office_archive("s.xlsx", b"PK\x03\x04" + bytes(100))


LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>
<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>
<row r="1"><c r="A1" t="inlineStr"><is><t>&lol3;</t></is></c></row></sheetData></worksheet>"""

EXTERNAL = b"""<?xml version="1.0"?>
<!DOCTYPE w [<!ENTITY secret SYSTEM "file:///etc/passwd">]>
<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>
<row r="1"><c r="A1" t="inlineStr"><is><t>&secret;</t></is></c></row></sheetData></worksheet>"""


WORKBOOK_XML = zipfile.ZipFile(io.BytesIO(GOOD)).read("xl/workbook.xml")
REFUSED = r"its XML declares entities or a document type, which metapool refuses for safety"


@pytest.mark.parametrize("xml", [LAUGHS, EXTERNAL], ids=["billion-laughs", "external-entity"])
def test_xml_entities_are_refused_with_a_clear_error(tmp_path, xml):
    with pytest.raises(DataValidationError, match=REFUSED + r".*'xl/worksheets/sheet1\.xml'"):
        read_table(_write(tmp_path, _replace(GOOD, {SHEET: xml})))
    # The same declaration in the part openpyxl parses on opening, before the workbook's own content.
    doctype = re.search(rb"<!DOCTYPE[^\]]*\]>", xml).group(0).replace(b"lolz", b"workbook").replace(b" w ", b" workbook ")
    with pytest.raises(DataValidationError, match=REFUSED + r".*'xl/workbook\.xml'"):
        read_table(_write(tmp_path, _replace(GOOD, {"xl/workbook.xml": doctype + WORKBOOK_XML})))


@pytest.mark.parametrize("xml", [LAUGHS, EXTERNAL], ids=["billion-laughs", "external-entity"])
def test_a_declaration_hidden_past_the_prolog_check_is_refused_by_defusedxml(tmp_path, xml):
    padded = xml.replace(b'<?xml version="1.0"?>', b'<?xml version="1.0"?><!--' + b" " * 10_000 + b"-->")
    with pytest.raises(DataValidationError, match=r"not a readable Excel workbook \(\.xlsx\): " + REFUSED):
        read_table(_write(tmp_path, _replace(GOOD, {SHEET: padded})))


def _sheet(cells: str, dimension: str = "A1:C3") -> bytes:
    return (f'<?xml version="1.0"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
            f'<dimension ref="{dimension}"/><sheetData>{cells}</sheetData></worksheet>').encode()


def _cell(ref: str, text: str) -> str:
    return f'<c r="{ref}" t="inlineStr"><is><t>{text}</t></is></c>'


def test_a_dimension_claiming_the_whole_sheet_costs_nothing(tmp_path):
    rows = (f'<row r="1">{_cell("A1", "study")}{_cell("B1", "yi")}</row>'
            f'<row r="2">{_cell("A2", "A")}{_cell("B2", "1")}</row>'
            f'<row r="1048576">{_cell("A1048576", "B")}{_cell("B1048576", "2")}</row>')
    start = time.monotonic()
    table = read_table(_write(tmp_path, _replace(GOOD, {SHEET: _sheet(rows, "A1:XFD1048576")})))
    assert table.n_rows == 2 and list(table) == ["study", "yi"]
    assert time.monotonic() - start < 10


def test_far_apart_cells_cannot_expand_into_a_huge_dense_table(tmp_path, monkeypatch):
    monkeypatch.setattr(tables, "WORKBOOK_MAX_CELLS", 10_000)
    header = "".join(_cell(f"{c}1", f"c{c}") for c in ("A", "B"))
    rows = f'<row r="1">{header}</row>' + "".join(f'<row r="{i}">{_cell(f"XFD{i}", "x")}</row>' for i in range(2, 5))
    with pytest.raises(DataValidationError, match=r"the sheet spans more than 10,000 cells"):
        read_table(_write(tmp_path, _replace(GOOD, {SHEET: _sheet(rows)})))


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_row_and_column_caps_name_the_limit(tmp_path, suffix):
    rows = [["study", "ai", "n1i"]] + [[f"S{i}", i, 10] for i in range(5)]
    if suffix == ".csv":
        path = _write(tmp_path, "\n".join(",".join(map(str, r)) for r in rows).encode(), "t.csv")
    else:
        path = _write(tmp_path, _workbook(rows), "t.xlsx")
    assert read_table(path, max_rows=5, max_columns=3).n_rows == 5
    with pytest.raises(DataValidationError, match=re.escape(f"t{suffix} has more than 4 rows, the most this reader "
                                                            "accepts")):
        read_table(path, max_rows=4)
    with pytest.raises(DataValidationError, match=re.escape(f"t{suffix} has more than 2 columns")):
        read_table(path, max_columns=2)


def test_openpyxl_parses_through_defusedxml():
    from openpyxl.xml import DEFUSEDXML

    assert DEFUSEDXML
