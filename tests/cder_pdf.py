"""Write CDER accelerated-approvals lists as PDFs in the real column layout (fpdf2)."""

from __future__ import annotations

from fpdf import FPDF

from regtrack.sources.fda.accelerated import COLUMNS

WIDTHS = (26, 22, 24, 26, 16, 18, 18, 70, 30, 24)


def accelerated_pdf(
    rows: list[list[str]], *, as_of: str, columns: tuple[str, ...] = COLUMNS
) -> bytes:
    pdf = FPDF(orientation="L", unit="mm", format="A4")
    pdf.add_page()
    pdf.set_font("Helvetica", size=9)
    pdf.set_margins(5, 5)
    with pdf.table(col_widths=WIDTHS, text_align="LEFT") as table:
        for title in ("CDER Drug and Biologic Accelerated Approvals Based on a Surrogate Endpoint",
                      f"As of {as_of}", f"Total Approvals {len(rows)}"):  # fmt: skip
            table.row().cell(title, colspan=len(WIDTHS))
        pdf.set_font("Helvetica", size=6)
        for row in [list(columns), *rows]:
            line = table.row()
            for cell in row:
                line.cell(cell)
    return bytes(pdf.output())
