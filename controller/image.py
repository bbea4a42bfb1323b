"""Build the node image with the Docker SDK, once per set of inputs.

The tag `heal-node:<hash12>` names a hash of everything that goes into the
image, so an unchanged tree finds its image at once and a changed one builds
a new one. Labels: `heal.inputs` (the full hash), `heal.base` (online or
offline).
"""

from __future__ import annotations

import hashlib
import logging
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import docker
import requests

from controller.errors import EXIT_FAILED, EXIT_OK
from controller.image_base import OFFLINE_BASE, ONLINE_BASE, choose_base
from controller.image_context import (
    DOCKERFILE,
    REQUIREMENTS,
    assemble_context,
    cache_dir,
    fill_wheelhouse,
    image_sources,
)
from controller.image_steps import ImageError, engine_build

__all__ = [
    "ImageError",
    "ImageInfo",
    "build_image_command",
    "ensure_image",
    "image_inputs_hash",
]

_LOG = logging.getLogger("controller.image")

REPOSITORY = "heal-node"
REPO_ROOT = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class ImageInfo:
    """The node image that ensure_image found or built.

    base is the label's online or offline; reason says why that base was
    taken, or "cached"; seconds is the time ensure_image took.
    """

    tag: str
    image_id: str
    inputs_hash: str
    base: str
    reason: str
    cached: bool
    seconds: float
    size_bytes: int


def image_inputs_hash(repo_root: Path) -> str:
    """sha256 over the Dockerfile, requirements, sources and base choice."""
    digest = hashlib.sha256()
    digest.update(f"bases {ONLINE_BASE} {OFFLINE_BASE}\0".encode())
    # The Dockerfile and requirements sit under node/ today; naming them
    # keeps them covered wherever they move.
    paths = sorted({DOCKERFILE, REQUIREMENTS, *image_sources(repo_root)})
    for relative in paths:
        content = (repo_root / relative).read_bytes()
        digest.update(f"{relative.as_posix()}\0{len(content)}\0".encode())
        digest.update(content)
    return digest.hexdigest()


def ensure_image(
    client: docker.DockerClient,
    *,
    repo_root: Path,
    force: bool = False,
    log: logging.Logger = _LOG,
) -> ImageInfo:
    """The node image for this tree, built unless an up-to-date one exists."""
    started = time.monotonic()
    if not (repo_root / DOCKERFILE).is_file():
        raise ImageError(
            f"no {DOCKERFILE} under {repo_root}; the node image is built "
            "from a checkout of the repository"
        )
    inputs = image_inputs_hash(repo_root)
    tag = f"{REPOSITORY}:{inputs[:12]}"

    try:
        image = None if force else _up_to_date(client, tag, inputs)
        if image is not None:
            log.info("image %s is up to date (cached)", tag)
            return _info(image, tag, inputs, "cached", True, started)
        reason = _build_fresh(client, repo_root, tag, inputs, force=force, log=log)
        image = client.images.get(tag)
    except (docker.errors.DockerException, requests.RequestException) as exc:
        raise ImageError(f"the Docker engine failed on {tag}: {exc}") from exc
    return _info(image, tag, inputs, reason, False, started)


def build_image_command(force: bool) -> int:
    """`controller image build`: ensure the node image, say what was done."""
    try:
        client = docker.from_env()
        client.ping()
    except docker.errors.DockerException as exc:
        print(f"no Docker engine answers ({exc}); start one with scripts/ensure-docker")
        return EXIT_FAILED

    try:
        info = ensure_image(client, repo_root=REPO_ROOT, force=force)
    except ImageError as exc:
        print(f"image build failed: {exc}")
        return EXIT_FAILED

    size = f"{info.size_bytes / 1e6:.0f} MB"
    if info.cached:
        print(f"{info.tag} is up to date ({size}); checked in {info.seconds:.2f} s")
    else:
        print(
            f"{info.tag} built on the {info.base} base in {info.seconds:.1f} s, "
            f"{size}: {info.reason}"
        )
    return EXIT_OK


def _up_to_date(client: docker.DockerClient, tag: str, inputs: str) -> Any:
    try:
        image = client.images.get(tag)
    except docker.errors.ImageNotFound:
        return None
    return image if image.labels.get("heal.inputs") == inputs else None


def _build_fresh(
    client: docker.DockerClient,
    repo_root: Path,
    tag: str,
    inputs: str,
    *,
    force: bool,
    log: logging.Logger,
) -> str:
    """Build tag from a fresh context; return why its base was taken."""
    cache = cache_dir()
    base = choose_base(client, cache_dir=cache, log=log)
    log.info("building %s on the %s base %s: %s", tag, base.kind, base.ref, base.reason)
    machine = str(client.info().get("Architecture", "x86_64"))
    fill_wheelhouse(
        repo_root, cache / "wheelhouse", machine=machine, refresh=force, log=log
    )

    cache.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=cache, prefix="context-") as context:
        assemble_context(repo_root, cache / "wheelhouse", Path(context))
        engine_build(
            client,
            context=context,
            tag=tag,
            buildargs={"BASE_IMAGE": base.ref},
            labels={"heal.inputs": inputs, "heal.base": base.kind},
            # A forced build redoes every step, not only the changed ones.
            nocache=force,
            log=log,
        )
    return base.reason


def _info(
    image: Any, tag: str, inputs: str, reason: str, cached: bool, started: float
) -> ImageInfo:
    return ImageInfo(
        tag=tag,
        image_id=str(image.id),
        inputs_hash=inputs,
        base=str(image.labels.get("heal.base", "unknown")),
        reason=reason,
        cached=cached,
        seconds=time.monotonic() - started,
        size_bytes=int(image.attrs.get("Size", 0)),
    )
