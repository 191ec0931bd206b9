"""Rewrite experiments/MANIFEST.json, the list of committed result files and their MD5s that
chapters read through lrcourse.lab.committed. Run after committing new results:
``python scripts/write_manifest.py``; tests/test_committed.py fails while it is out of date."""

from pathlib import Path

from lrcourse.lab.committed import write_manifest

if __name__ == "__main__":
    files = write_manifest(Path(__file__).resolve().parents[1] / "experiments")
    print(f"experiments/MANIFEST.json lists {len(files)} files")
