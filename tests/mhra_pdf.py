"""Write MHRA grants lists as PDFs in the documented column layout, with a real PDF writer."""

from __future__ import annotations

from fpdf import FPDF

COLUMNS = ["PL Number", "Grant Date", "MA Holder", "Licensed Name(s)", "Active Ingredient",
           "Quantity", "Units", "Legal Status", "Territory"]  # fmt: skip
WIDTHS = (24, 18, 34, 60, 34, 14, 30, 14, 16)


def grants_pdf(
    rows: list[list[str]], *, columns: list[str] = COLUMNS, password: str | None = None
) -> bytes:
    pdf = FPDF(orientation="L", unit="mm", format="A4")
    if password:
        pdf.set_encryption(owner_password="owner", user_password=password)
    pdf.add_page()
    pdf.set_font("Helvetica", size=11)
    pdf.cell(0, 8, "Marketing authorisations granted", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", size=6)
    with pdf.table(col_widths=WIDTHS, text_align="LEFT") as table:
        for row in [columns, *rows]:
            line = table.row()
            for cell in row:
                line.cell(cell)
    return bytes(pdf.output())


def image_only_pdf() -> bytes:
    """A 'scanned' list: no text layer at all."""
    pdf = FPDF()
    pdf.add_page()
    pdf.set_fill_color(40, 40, 40)
    for y in range(20, 200, 12):
        pdf.rect(15, y, 180, 6, style="F")
    return bytes(pdf.output())
