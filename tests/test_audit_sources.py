"""metapool audit reads plain text, HTML, DOCX and PDF (built here on the fly), and refuses what it cannot read."""

from __future__ import annotations

import io

import pytest

from metapool.audit.sources import MAX_BYTES, read_source, text_of
from metapool.exceptions import DataValidationError, MetapoolError

SENTENCE = "The pooled ORR was 26% (95% CI 24–48%) in 32 studies."


def test_plain_text_utf8_and_cp1252(tmp_path):
    path = tmp_path / "abstract.txt"
    path.write_text(SENTENCE + "\r\nNext line.", encoding="utf-8")
    assert read_source(path) == (SENTENCE + "\nNext line.", str(path))
    path.write_bytes("Médiane 8,0 mois – n = 20".encode("cp1252"))
    assert read_source(path)[0] == "Médiane 8,0 mois – n = 20"
    assert read_source(path, encoding="latin-1")[0].startswith("Médiane")


def test_standard_input():
    text, name = read_source("-", stdin=io.BytesIO(SENTENCE.encode()))
    assert (text, name) == (SENTENCE, "-")


def test_html_drops_scripts_and_styles_decodes_entities_and_breaks_blocks(tmp_path):
    page = (b"<!DOCTYPE html><html><head><title>Digest</title><style>p {color: red}</style></head><body>"
            b"<script>document.write('HR 9.9 (1-2)')</script><h1>Results</h1>"
            b"<p>Pooled ORR was 26&nbsp;% (95%&nbsp;CI 24&ndash;48%) &amp; N&nbsp;=&nbsp;2,289<br>next</p>"
            b"<!-- 99% (1-2%) --><ul><li>CR 30%</li><li>OS <b>8.0</b> mo</li></ul>"
            b"<table><tr><th>k</th><td>32</td></tr></table></body></html>")
    path = tmp_path / "digest.html"
    path.write_bytes(page)
    text, _ = read_source(path)
    assert "document.write" not in text and "color" not in text and "99%" not in text and "Digest" not in text
    assert "Pooled ORR was 26 % (95% CI 24–48%) & N = 2,289\nnext" in text  # no-break spaces are spaces
    assert "CR 30%\nOS 8.0 mo" in text
    assert "k\t32" in text
    assert text.index("Results") < text.index("Pooled") < text.index("CR 30%") < text.index("k\t32")
    # recognised by its content too, whatever the suffix (but a .txt file stays plain text)
    assert text_of(page, "digest.dat") == text
    assert text_of(b"p <body> 26%", "notes.txt") == "p <body> 26%"


def test_docx_paragraphs_and_table_cells_in_order(tmp_path):
    docx = pytest.importorskip("docx")
    document = docx.Document()
    document.add_paragraph("Abstract")
    document.add_paragraph(SENTENCE)
    table = document.add_table(rows=2, cols=3)
    for j, cell in enumerate(("Outcome", "k", "Estimate")):
        table.cell(0, j).text = cell
    table.cell(1, 0).text = "ORR"
    table.cell(1, 1).merge(table.cell(1, 2)).text = "32 studies, 26%"
    document.add_paragraph("After the table.")
    path = tmp_path / "draft.docx"
    document.save(path)
    text, _ = read_source(path)
    assert text == f"Abstract\n{SENTENCE}\nOutcome\tk\tEstimate\nORR\t32 studies, 26%\nAfter the table."


def test_pdf_text_layer(tmp_path):
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig = plt.figure()
    fig.text(0.05, 0.5, "The pooled HR was 0.72 (95% CI 0.61 to 0.85).")
    path = tmp_path / "paper.pdf"
    fig.savefig(path, format="pdf")
    plt.close(fig)
    assert read_source(path)[0].strip() == "The pooled HR was 0.72 (95% CI 0.61 to 0.85)."


def test_pdf_without_text_and_encrypted_pdf(tmp_path):
    from pypdf import PdfWriter

    writer = PdfWriter()
    writer.add_blank_page(200, 200)
    blank = io.BytesIO()
    writer.write(blank)
    with pytest.raises(DataValidationError, match="holds no text.*OCR"):
        text_of(blank.getvalue(), "scan.pdf")
    writer.encrypt("secret", algorithm="RC4-128")
    locked = io.BytesIO()
    writer.write(locked)
    with pytest.raises(DataValidationError, match="encrypted PDF"):
        text_of(locked.getvalue(), "locked.pdf")


@pytest.mark.parametrize("data, message", [
    (b"", "is empty"),
    (b"  \n\t ", "is empty"),
    (b"\x89PNG\r\n\x1a\n\x00\x00", "PNG image"),
    (b"abc\x00def", "NUL bytes"),
    (b"%PDF-1.4 garbage", "not a readable PDF"),
    (b"PK\x03\x04 not really a zip", "ZIP archive but not a Word"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1\x00", r"old Office file \(.doc\)"),
    (b"<html><body><script>x</script></body></html>", "holds no text"),
])
def test_unreadable_inputs_raise_one_line_errors(data, message):
    with pytest.raises(MetapoolError, match=message):
        text_of(data, "input.bin")


def test_damaged_docx(tmp_path):
    import zipfile

    path = tmp_path / "broken.docx"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("word/document.xml", "<not xml")
    with pytest.raises(DataValidationError, match="not a readable Word"):
        read_source(path)


def test_missing_folder_and_too_large(tmp_path):
    with pytest.raises(DataValidationError, match="does not exist"):
        read_source(tmp_path / "nothing.txt")
    with pytest.raises(DataValidationError, match="is a folder"):
        read_source(tmp_path)
    big = tmp_path / "big.txt"
    big.write_bytes(b"a" * (MAX_BYTES + 1))
    with pytest.raises(DataValidationError, match="larger than 5 MB"):
        read_source(big)
    with pytest.raises(DataValidationError, match="larger than 5 MB"):
        read_source("-", stdin=io.BytesIO(b"a" * (MAX_BYTES + 10)))
