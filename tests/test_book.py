"""The book's configuration: what is built, from where, and how strictly."""

import re
from pathlib import Path

import nbformat
import yaml

ROOT = Path(__file__).resolve().parents[1]
CONFIG = yaml.safe_load((ROOT / "_config.yml").read_text())
TOC = yaml.safe_load((ROOT / "_toc.yml").read_text())


def toc_files():
    files = [TOC["root"]]
    for part in TOC["parts"]:
        files += [chapter["file"] for chapter in part["chapters"]]
    return files


def resolve(entry):
    matches = [ROOT / f"{entry}{suffix}" for suffix in (".md", ".ipynb") if (ROOT / f"{entry}{suffix}").exists()]
    assert len(matches) == 1, f"_toc.yml entry {entry!r} should match exactly one .md or .ipynb file"
    return matches[0]


def test_every_toc_entry_exists():
    for entry in toc_files():
        resolve(entry)


def test_every_chapter_notebook_is_in_the_toc():
    listed = {resolve(entry) for entry in toc_files()}
    for notebook in (ROOT / "book").glob("*.ipynb"):
        assert notebook in listed, f"{notebook.name} is not in _toc.yml, so it would not be built"


def test_chapters_are_numbered_in_order():
    chapters = [e for e in toc_files() if re.match(r"book/\d\d_", e)]
    numbers = [int(Path(e).name[:2]) for e in chapters]
    assert numbers == list(range(1, len(numbers) + 1))


def test_config_policy():
    assert CONFIG["only_build_toc_files"] is True
    assert CONFIG["execute"]["execute_notebooks"] == "off"
    assert CONFIG["sphinx"]["config"]["intersphinx_mapping"] == {}, "the build must not fetch inventories"
    assert CONFIG["sphinx"]["config"]["nitpicky"] is True
    assert (ROOT / CONFIG["bibtex_bibfiles"][0]).exists()
    for ext in ("sphinx_exercise", "sphinx.ext.autodoc"):
        assert ext in CONFIG["sphinx"]["extra_extensions"]


def test_colab_install_cells_install_the_release_of_this_version():
    # @main would drift away from the committed outputs; the tag of this version matches them.
    import lrcourse

    url = CONFIG["repository"]["url"]
    expected = f'"git+{url}@v{lrcourse.__version__}"'
    for notebook in sorted((ROOT / "book").glob("*.ipynb")):
        first = next(c for c in nbformat.read(notebook, as_version=4).cells if c.cell_type == "code")
        assert expected in first.source, f"{notebook.name}: install cell should use {expected}"
        # The chapters run the lab (data, models, the loop) as well as the library.
        # (chapter 12 adds the schedule-free extra: "lrcourse[lab,schedulefree]")
        assert re.search(r'"lrcourse\[lab(,\w+)*\] @ \{LRCOURSE\}"', first.source), \
            f"{notebook.name}: install cell should install lrcourse[lab]"
        # Hidden on the site (one click away), still run by Colab.
        assert "hide-input" in first.metadata.get("tags", []), f"{notebook.name}: tag the install cell hide-input"


def test_citations_exist_in_the_bibliography():
    keys = set(re.findall(r"^@\w+\{([^,]+),", (ROOT / "book/references.bib").read_text(), re.M))
    for page in list((ROOT / "book").glob("*.ipynb")) + list((ROOT / "book").glob("*.md")):
        for cited in re.findall(r"\{cite:[pt]\}`([^`]+)`", page.read_text()):
            for key in cited.split(","):
                assert key.strip() in keys, f"{page.name} cites unknown key {key!r}"


def test_readme_lists_every_chapter():
    readme = (ROOT / "README.md").read_text()
    for notebook in sorted((ROOT / "book").glob("[0-9][0-9]_*.ipynb")):
        assert f"(book/{notebook.name})" in readme, f"README's chapter table lacks {notebook.name}"


def test_time_budget_page_shows_the_recorded_chapter_times():
    # The run times on the time-budget page come from bench/chapter_times.json (written by
    # make notebooks), never typed by hand.
    import sys

    sys.path.insert(0, str(ROOT / "scripts"))
    import chapter_times

    data = chapter_times.load()
    chapters = {p.name for p in (ROOT / "book").glob("[0-9][0-9]_*.ipynb")}
    assert set(data["chapters"]) == chapters, "run make notebooks to time every chapter"
    block = chapter_times.BLOCK.search((ROOT / "book/time_budgets.md").read_text())
    assert block and block.group(0) == chapter_times.render(data)


def test_readme_installs_the_release_of_this_version():
    import lrcourse

    assert f"lrcourse@v{lrcourse.__version__}\"" in (ROOT / "README.md").read_text()


def test_instructor_page_lists_every_checker():
    import sys

    sys.path.insert(0, str(ROOT / "scripts"))
    import exercise_table

    block = exercise_table.BLOCK.search((ROOT / "book/instructors.md").read_text())
    assert block and block.group(0) == exercise_table.render(), "run python scripts/exercise_table.py"
