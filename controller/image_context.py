"""What goes into the node image: source files, wheelhouse, build context.

Python packages reach the image only through a wheelhouse that the host
fills with pip, because package indexes may be unreachable from inside a
container. The wheelhouse lives in the cache directory, never in the tree.
"""

from __future__ import annotations

import logging
import os
import shutil
import sys
from pathlib import Path

from controller.image_steps import run_step

SOURCE_DIRS = ("protos", "node", "netem")
DOCKERFILE = Path("node/Dockerfile")
REQUIREMENTS = Path("node/requirements.txt")
CACHE_ENV = "HEAL_CACHE_DIR"
# Records the requirements the wheelhouse was last filled for.
STAMP = ".filled-for"

# Both bases run CPython 3.11 on glibc 2.36 or newer.
TARGET_PYTHON = "3.11"
TARGET_ABI = "cp311"
TARGET_GLIBC_MINORS = range(17, 37)


def cache_dir() -> Path:
    """The testbed's cache directory: $HEAL_CACHE_DIR or ~/.cache/heal-testbed."""
    override = os.environ.get(CACHE_ENV)
    if override:
        return Path(override).expanduser()
    return Path.home() / ".cache" / "heal-testbed"


def image_sources(repo_root: Path) -> list[Path]:
    """Files copied into the image, relative to repo_root, in sorted order."""
    found: list[Path] = []
    for top in SOURCE_DIRS:
        for dirpath, dirnames, filenames in os.walk(repo_root / top):
            dirnames[:] = [
                d for d in dirnames if d != "__pycache__" and not d.startswith(".")
            ]
            for name in filenames:
                if name.endswith((".pyc", ".pyo")) or name.startswith("."):
                    continue
                found.append((Path(dirpath) / name).relative_to(repo_root))
    return sorted(found, key=lambda p: p.as_posix())


def fill_wheelhouse(
    repo_root: Path,
    wheelhouse: Path,
    *,
    machine: str,
    refresh: bool,
    log: logging.Logger,
) -> None:
    """Download wheels for the node's requirements, for the image's platform.

    machine is the engine's CPU name as `uname -m` gives it (x86_64, aarch64).
    A wheelhouse already filled for the same requirements and machine is
    left as it is unless refresh is set.
    """
    wanted = (repo_root / REQUIREMENTS).read_text() + f"\nmachine {machine}\n"
    stamp = wheelhouse / STAMP
    if not refresh and stamp.is_file() and stamp.read_text() == wanted:
        log.debug("wheelhouse %s is filled for these requirements", wheelhouse)
        return

    # Start empty so that wheels of earlier requirements do not pile up.
    shutil.rmtree(wheelhouse, ignore_errors=True)
    wheelhouse.mkdir(parents=True)
    platforms = [f"manylinux_2_{minor}_{machine}" for minor in TARGET_GLIBC_MINORS]
    argv = [
        sys.executable,
        "-m",
        "pip",
        "download",
        "--disable-pip-version-check",
        "--dest",
        str(wheelhouse),
        "--requirement",
        str(repo_root / REQUIREMENTS),
        "--only-binary=:all:",
        "--python-version",
        TARGET_PYTHON,
        "--implementation",
        "cp",
        "--abi",
        TARGET_ABI,
        *(arg for platform in platforms for arg in ("--platform", platform)),
        "--platform",
        f"manylinux2014_{machine}",
    ]
    log.info("filling the wheelhouse %s", wheelhouse)
    run_step(argv, what="pip download", log=log)
    stamp.write_text(wanted)


def assemble_context(repo_root: Path, wheelhouse: Path, context: Path) -> None:
    """Lay out a build context: Dockerfile, wheelhouse/ and the sources."""
    shutil.copy2(repo_root / DOCKERFILE, context / "Dockerfile")
    for wheel in sorted(wheelhouse.glob("*.whl")):
        _link_or_copy(wheel, context / "wheelhouse" / wheel.name)
    for relative in image_sources(repo_root):
        _link_or_copy(repo_root / relative, context / relative)


def _link_or_copy(source: Path, target: Path) -> None:
    # A hard link costs nothing for a large wheel; it needs one filesystem.
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.link(source, target)
    except OSError:
        shutil.copy2(source, target)
