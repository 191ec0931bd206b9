"""scripts/check_bibliography.py finds what once broke the references page, and nothing else."""

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))
from check_bibliography import problems  # noqa: E402


def entry(entry_id, label, text, role="listitem"):
    return (
        f'<div class="citation" id="{entry_id}" role="{role}">\n'
        f'<span class="label"><span class="fn-bracket">[</span>{label}<span class="fn-bracket">]</span></span>\n'
        f"<p>{text}</p>\n</div>"
    )


def cite(entry_id, text):
    return f'<a class="reference internal" href="references.html#{entry_id}" title="t">{text}</a>'


@pytest.fixture
def site(tmp_path):
    def build(entries, pages):
        (tmp_path / "book").mkdir(exist_ok=True)
        (tmp_path / "book" / "references.html").write_text("\n".join(entries), encoding="utf-8")
        for name, body in pages.items():
            (tmp_path / "book" / name).write_text(body, encoding="utf-8")
        return tmp_path

    return build


def test_a_clean_bibliography_passes(site):
    root = site(
        [entry("id1", "1", "Xingyu Liao. Learning-rate decay. 2017."),
         entry("id2", "2", "CSDN blog. Warmup. n.d.", role="doc-biblioentry")],
        {"ch.html": cite("id1", "Liao, 2017") + cite("id2", "CSDN blog, n.d.") + cite("id1", "2017")},
    )
    assert problems(root) == []


def test_one_citation_text_for_several_works_is_reported(site):
    # The state the bibliography was once in: five articles, all "Source article, n.d.".
    root = site(
        [entry("id1", "Sourcearticled.a", "Source article. A. n.d."), entry("id2", "Sourcearticled.b", "Source article. B. n.d.")],
        {"ch.html": cite("id1", "Source article, n.d.") + cite("id2", "Source article, n.d.")},
    )
    assert problems(root) == ["book/ch.html: the citation 'Source article, n.d.' stands for 2 different works"]


def test_textual_citations_that_link_only_their_year_are_not_confused(site):
    root = site([entry("id1", "1", "A. 2019."), entry("id2", "2", "B. 2019.")], {"ch.html": cite("id1", "2019") + cite("id2", "2019")})
    assert problems(root) == []


def test_latex_macros_and_repeated_labels_are_reported(site):
    root = site([entry("id1", "X", r"With a \texttt{WarmupLR} and 5\,%."), entry("id2", "X", "Plain.")], {})
    found = problems(root)
    assert any("shows a LaTeX macro" in line and "texttt" in line for line in found)
    assert "book/references.html: label [X] is used by 2 entries" in found


def test_a_missing_references_page_is_reported(tmp_path):
    assert problems(tmp_path) == ["book/references.html is missing: build the site first"]
