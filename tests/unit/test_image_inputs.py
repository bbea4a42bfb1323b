"""The node image's inputs hash follows the files that go into the image."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from controller.image import image_inputs_hash
from controller.image_context import SOURCE_DIRS

REPO_ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """A copy of the directories that go into the node image."""
    root = tmp_path / "repo"
    for name in SOURCE_DIRS:
        shutil.copytree(
            REPO_ROOT / name,
            root / name,
            ignore=shutil.ignore_patterns("__pycache__", "*.pyc"),
        )
    return root


def test_hash_is_stable_for_an_unchanged_tree(tree: Path, tmp_path: Path) -> None:
    first = image_inputs_hash(tree)

    assert image_inputs_hash(tree) == first
    moved = shutil.copytree(tree, tmp_path / "elsewhere")
    assert image_inputs_hash(moved) == first


def test_hash_ignores_bytecode_caches(tree: Path) -> None:
    before = image_inputs_hash(tree)

    cache = tree / "node" / "__pycache__"
    cache.mkdir(exist_ok=True)
    (cache / "x.cpython-311.pyc").write_bytes(b"\0bytecode")
    (tree / "netem" / "stray.pyc").write_bytes(b"\0bytecode")

    assert image_inputs_hash(tree) == before


def test_hash_changes_when_a_node_source_changes(tree: Path) -> None:
    before = image_inputs_hash(tree)

    source = tree / "node" / "__init__.py"
    source.write_text(source.read_text() + "\n# changed\n")

    assert image_inputs_hash(tree) != before


def test_hash_changes_when_a_source_file_is_added(tree: Path) -> None:
    before = image_inputs_hash(tree)

    (tree / "netem" / "added.py").write_text("X = 1\n")

    assert image_inputs_hash(tree) != before


@pytest.mark.parametrize("name", ["node/Dockerfile", "node/requirements.txt"])
def test_hash_changes_with_build_recipe(tree: Path, name: str) -> None:
    before = image_inputs_hash(tree)

    with (tree / name).open("a") as recipe:
        recipe.write("\n# changed\n")

    assert image_inputs_hash(tree) != before
