"""Write NICE guidance documents (draft guidance, final draft guidance) as PDFs in the real
layout (fpdf2): the stage's heading and the technology, the preamble a consultation carries,
section 1 "Recommendations", its rationale, then section 2; a footer on every page."""

from __future__ import annotations

from fpdf import FPDF

TITLE = "Zetamab for treating refractory pulmonary fibrosis after antifibrotic treatment"
PREAMBLE = [
    "The Department of Health and Social Care has asked the National Institute for Health and "
    "Care Excellence (NICE) to produce guidance on using zetamab in the NHS in England. The "
    "evaluation committee has considered the evidence submitted by the company and the views "
    "of non-company stakeholders, clinical experts and patient experts.",
    "The evaluation committee is interested in receiving comments on the following:",
    "- Are the recommendations sound and a suitable basis for guidance to the NHS?",
    "Note that this document is not NICE's final guidance on this technology. The "
    "recommendations in section 1 may change after consultation.",
]
DRAFT_1 = (
    "1.1 Zetamab is not recommended, within its marketing authorisation, for treating "
    "refractory pulmonary fibrosis in adults after antifibrotic treatment."
)
FINAL_1 = (
    "1.1 Zetamab is recommended as an option for treating refractory pulmonary fibrosis in "
    "adults after antifibrotic treatment, only if the company provides it according to the "
    "commercial arrangement."
)
STANDING = (
    "1.2 This recommendation is not intended to affect treatment with zetamab that was started "
    "in the NHS before this guidance was published."
)
WHY = (
    "Usual treatment is best supportive care. The cost-effectiveness estimates are uncertain, "
    "so zetamab is not recommended."
)


def guidance_pdf(stage: str, first: str, *, preamble: bool = True, issued: str = "2025") -> bytes:
    """One guidance document: `stage` ("Draft guidance consultation", "Final draft
    guidance") heads it; `first` is recommendation 1.1."""
    pdf = FPDF(format="A4")
    pdf.set_margins(20, 20)
    footer = f"{stage} - {TITLE} Issue date: {issued} (c) NICE {issued}. All rights reserved."
    pdf.set_auto_page_break(True, 25)
    pdf.footer = lambda: (pdf.set_y(-18), pdf.set_font("Helvetica", size=7),  # type: ignore[method-assign]
                          pdf.multi_cell(0, 4, f"{footer} Page {pdf.page_no()}"))  # fmt: skip
    pdf.add_page()
    pdf.set_font("Helvetica", size=10)
    for line in ("NATIONAL INSTITUTE FOR HEALTH AND CARE EXCELLENCE", stage, TITLE):
        pdf.multi_cell(0, 6, line, new_x="LMARGIN", new_y="NEXT")
    for paragraph in PREAMBLE if preamble else PREAMBLE[:1]:
        pdf.multi_cell(0, 5, paragraph, new_x="LMARGIN", new_y="NEXT")
        pdf.ln(2)
    pdf.add_page()
    body = ["1 Recommendations", first, STANDING, "Why the committee made these recommendations",
            WHY, "2 Information about zetamab", "Marketing authorisation indication",
            "2.1 Zetamab (Zetavia, Zeta Pharma) is indicated for refractory pulmonary fibrosis."]  # fmt: skip
    for paragraph in body:
        pdf.multi_cell(0, 5, paragraph, new_x="LMARGIN", new_y="NEXT")
        pdf.ln(2)
    return bytes(pdf.output())
