"""A folder of generated PDFs: page-accurate search, bad PDFs skipped with a reason."""
from fixtures.pdfs import (SECTIONS, default_sections, make_broken_pdf, make_encrypted_pdf,
                           make_image_only_pdf, make_paper_pdf)

from paperlens.core.library import Library


def test_pdf_folder_page_accurate_and_bad_pdfs_skipped(tmp_path):
    folder = tmp_path / "pdfs"
    folder.mkdir()
    pages = {}
    for columns in (1, 2):
        pages[columns] = make_paper_pdf(folder / f"paper-{columns}col.pdf",
                                        title=f"Sparse Probing in {columns} Column Layouts",
                                        sections=default_sections(), columns=columns)
    make_broken_pdf(folder / "broken.pdf")
    make_encrypted_pdf(folder / "locked.pdf")
    make_image_only_pdf(folder / "scan.pdf")
    lib = Library([folder], str(tmp_path / "ix"))
    (report,) = lib.update()
    assert dict(report.skipped) == {
        "broken.pdf": "broken PDF: damaged or not a PDF file",
        "locked.pdf": "encrypted PDF (password required)",
        "scan.pdf": "no text layer (image-only or scanned PDF)",
    }
    assert report.papers_total == 2
    checked = 0
    for columns, sentence_pages in pages.items():
        pdf = str(folder / f"paper-{columns}col.pdf")
        for sentence, page in sentence_pages.items():
            phrase = sentence[:60].rsplit(" ", 1)[0]
            hits = [h for h in lib.search(f'"{phrase}"', limit=20, per_paper=50) if h.path == pdf]
            assert hits, sentence
            assert hits[0].page == page, (columns, sentence, hits[0].page, page)
            checked += 1
    assert checked >= 2 * (len(SECTIONS) + 1)
    assert {p for ps in pages.values() for p in ps.values()} >= {1, 2, 3}
    # the unchanged folder is reopened without parsing anything, the bad files included
    (again,) = Library([folder], str(tmp_path / "ix")).update()
    assert again.files_parsed == 0 and again.skipped == [] and again.unusable == 3
