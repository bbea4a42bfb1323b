"""Where the node image's base comes from: a public Python image or a local one.

The public `python:3.11-slim` is used when the engine has it or can pull it.
Without a registry the base is made here once: a Debian bookworm tree from
debootstrap, imported as `heal-base:bookworm`. Both carry Python 3.11, so
one wheelhouse serves either.
"""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import docker
import requests

from controller.image_steps import ImageError, run_step

ONLINE_BASE = "python:3.11-slim"
OFFLINE_BASE = "heal-base:bookworm"
OFFLINE_SUITE = "bookworm"
OFFLINE_PACKAGES = (
    "python3",
    "python3-venv",
    "python3-pip",
    "iproute2",
    "iptables",
    "ca-certificates",
)
# The imported tree has no image config of its own.
OFFLINE_CHANGES = [
    "ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
    "ENV LANG=C.UTF-8",
    'CMD ["/bin/bash"]',
]


@dataclass(frozen=True)
class BaseImage:
    ref: str
    kind: Literal["online", "offline"]
    reason: str


def choose_base(
    client: docker.DockerClient, *, cache_dir: Path, log: logging.Logger
) -> BaseImage:
    """The base to build on, making the offline one if it is needed."""
    if _present(client, ONLINE_BASE):
        return BaseImage(ONLINE_BASE, "online", f"{ONLINE_BASE} is present")

    repository, tag = ONLINE_BASE.split(":")
    try:
        client.images.pull(repository, tag)
    except (docker.errors.DockerException, requests.RequestException) as exc:
        pull_error = _first_line(getattr(exc, "explanation", None) or exc)
    else:
        return BaseImage(ONLINE_BASE, "online", f"pulled {ONLINE_BASE}")

    if _present(client, OFFLINE_BASE):
        reason = f"pull failed ({pull_error}); {OFFLINE_BASE} is present"
    else:
        make_offline_base(client, cache_dir=cache_dir, log=log)
        reason = f"pull failed ({pull_error}); made {OFFLINE_BASE} with debootstrap"
    return BaseImage(OFFLINE_BASE, "offline", reason)


def make_offline_base(
    client: docker.DockerClient, *, cache_dir: Path, log: logging.Logger
) -> None:
    """Debootstrap a minimal bookworm with Python and import it as an image."""
    if os.geteuid() != 0:
        raise ImageError(
            f"making {OFFLINE_BASE} needs root (debootstrap); run as root, "
            f"or make {ONLINE_BASE} available to the engine"
        )
    _install_debootstrap(log)

    mirror = host_debian_mirror()
    log.info(
        "making %s with debootstrap from %s (a few minutes)",
        OFFLINE_BASE,
        mirror or "debootstrap's default mirror",
    )
    cache_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=cache_dir, prefix="rootfs-") as rootfs:
        argv = [
            "debootstrap",
            "--variant=minbase",
            "--include=" + ",".join(OFFLINE_PACKAGES),
            OFFLINE_SUITE,
            rootfs,
        ]
        run_step(argv + ([mirror] if mirror else []), what="debootstrap", log=log)
        _trim(Path(rootfs))
        _import_tree(client, Path(rootfs))


def host_debian_mirror() -> str | None:
    """The Debian archive this host's apt uses, or None to take the default.

    Asks apt itself, so both sources formats and any configured location of
    the sources files are covered.
    """
    fields = "$(REPO_URI) $(RELEASE) $(COMPONENT) $(TARGET_OF) $(LABEL)"
    try:
        out = subprocess.run(
            ["apt-get", "indextargets", "--format", fields],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    except (OSError, subprocess.CalledProcessError):
        return None

    rows = [line.split() for line in out.splitlines()]
    archives = [r for r in rows if len(r) >= 4 and r[2:4] == ["main", "deb"]]
    for row in archives:
        if row[1] == OFFLINE_SUITE:
            return row[0]
    for row in archives:
        if row[4:] == ["Debian"]:
            return row[0]
    return None


def _first_line(error: object) -> str:
    return str(error).strip().splitlines()[0] if str(error).strip() else "no reason"


def _present(client: docker.DockerClient, ref: str) -> bool:
    try:
        client.images.get(ref)
    except docker.errors.ImageNotFound:
        return False
    return True


def _install_debootstrap(log: logging.Logger) -> None:
    if shutil.which("debootstrap"):
        return
    log.info("installing debootstrap with apt-get")
    env = {"DEBIAN_FRONTEND": "noninteractive"}
    run_step(["apt-get", "update", "-q"], what="apt-get update", log=log, env=env)
    run_step(
        ["apt-get", "install", "-y", "-q", "debootstrap"],
        what="apt-get install",
        log=log,
        env=env,
    )


def _trim(rootfs: Path) -> None:
    """Drop the downloaded packages; the image never needs them again."""
    for deb in (rootfs / "var/cache/apt/archives").glob("*.deb"):
        deb.unlink()


def _import_tree(client: docker.DockerClient, rootfs: Path) -> None:
    repository, tag = OFFLINE_BASE.split(":")
    argv = ["tar", "--numeric-owner", "--xattrs", "-C", str(rootfs), "-c", "."]
    with (
        tempfile.TemporaryFile() as stderr,
        subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=stderr) as tar,
    ):
        try:
            result = client.api.import_image_from_stream(
                tar.stdout, repository=repository, tag=tag, changes=OFFLINE_CHANGES
            )
        except docker.errors.DockerException as exc:
            tar.kill()
            raise ImageError(f"importing {OFFLINE_BASE} failed: {exc}") from exc
        tar.wait()
        stderr.seek(0)
        tar_said = stderr.read().decode(errors="replace").strip()
    if tar.returncode != 0 or '"error"' in str(result):
        raise ImageError(
            f"importing {OFFLINE_BASE} failed: tar exit code {tar.returncode}, "
            f"tar said {tar_said!r}, engine said {str(result).strip()!r}"
        )
