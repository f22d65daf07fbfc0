"""ctrlab's docker images, built locally (there is no registry) and only when their inputs change.

* ``ctrlab/base:<hash>``: ``virtual_appliances/docker/build_base.sh`` (debootstrap + ``docker import``);
  the hash is the script's own.
* an :class:`ImageRecipe` per image on that base: ``ctrlab/sim`` (the bundled simulators) and
  ``ctrlab/c100v`` (the qemu wrapper for a real C100V qcow2). The tag is a hash of the base tag and every
  input file; the build context holds exactly those files (docs/docker.md).
"""

from __future__ import annotations

import fnmatch
import hashlib
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from .base import BackendError

if TYPE_CHECKING:
    import docker as docker_sdk

BASE_REPO = "ctrlab/base"
LABEL_INPUTS = "org.ctrlab.inputs"  # full sha256 of the image's inputs
IGNORED = ("__pycache__", "*.pyc", ".mypy_cache", ".ruff_cache", ".pytest_cache")
BUILD_TIMEOUT_S = 1800  # base image (debootstrap) or an image on it (pip or apt from the mirror)
LOG_TAIL_CHARS = 3000


@dataclass(frozen=True)
class ImageRecipe:
    """An image on the base: its Dockerfile and the files its build context holds (paths from the root)."""

    repo: str
    dockerfile: str
    files: tuple[tuple[str, str], ...] = ()  # (name in the context, path in the checkout)
    dirs: tuple[str, ...] = ()  # copied whole, at the same relative path
    excluded: tuple[str, ...] = ()  # directories under ``dirs`` left out


SIM = ImageRecipe(
    repo="ctrlab/sim", dockerfile="virtual_appliances/docker/Dockerfile",
    files=(("healthcheck.py", "virtual_appliances/docker/healthcheck.py"), ("pyproject.toml", "pyproject.toml")),
    dirs=("virtual_appliances",),  # the simulators never import harness/ or steps/
    excluded=("virtual_appliances/c100v",))  # the C100V wrapper has an image of its own
C100V = ImageRecipe(
    repo="ctrlab/c100v", dockerfile="virtual_appliances/c100v/Dockerfile",
    files=(("virtual_appliances/__init__.py", "virtual_appliances/__init__.py"),),
    dirs=("virtual_appliances/c100v",),
    excluded=("virtual_appliances/c100v/standin",))  # the stand-in guest is a test fixture


def docker_dir(root: Path) -> Path:
    return root / "virtual_appliances" / "docker"


def base_tag(root: Path) -> str:
    """``ctrlab/base:<hash>``: the first 12 hex of build_base.sh's sha256, as the script computes it."""
    script = docker_dir(root) / "build_base.sh"
    return f"{BASE_REPO}:{hashlib.sha256(script.read_bytes()).hexdigest()[:12]}"


def _ignored(name: str) -> bool:
    return any(fnmatch.fnmatch(name, pattern) for pattern in IGNORED)


def input_files(root: Path, recipe: ImageRecipe) -> Iterator[tuple[str, Path]]:
    """(path in the build context, file): everything the image is made of, in a stable order."""
    yield "Dockerfile", root / recipe.dockerfile
    for name, path in recipe.files:
        yield name, root / path
    for top in recipe.dirs:
        for dirpath, dirnames, filenames in os.walk(root / top):
            here = Path(dirpath).relative_to(root)
            dirnames[:] = sorted(d for d in dirnames
                                 if not _ignored(d) and (here / d).as_posix() not in recipe.excluded)
            for filename in sorted(filenames):
                if not _ignored(filename):
                    path = Path(dirpath) / filename
                    yield path.relative_to(root).as_posix(), path


def inputs_hash(root: Path, recipe: ImageRecipe) -> str:
    """sha256 over the base tag and every input file's path and bytes: changes iff an input changes."""
    digest = hashlib.sha256(base_tag(root).encode())
    for name, path in input_files(root, recipe):
        digest.update(b"\0" + name.encode() + b"\0")
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


def image_tag(root: Path, recipe: ImageRecipe) -> str:
    return f"{recipe.repo}:{inputs_hash(root, recipe)[:12]}"


def build_ca_bundle() -> Path:
    """The CA bundle pip uses on this machine: PIP_CERT, REQUESTS_CA_BUNDLE, SSL_CERT_FILE or the system's."""
    for name in ("PIP_CERT", "REQUESTS_CA_BUNDLE", "SSL_CERT_FILE"):
        value = os.environ.get(name)
        if value and Path(value).is_file():
            return Path(value)
    return Path("/etc/ssl/certs/ca-certificates.crt")


class ImageBuilder:
    """Build ``ctrlab/base`` and the recipes' images when missing; the tags name their inputs' hash."""

    def __init__(self, client: docker_sdk.DockerClient, root: Path, log: Path | None = None) -> None:
        self.client, self.root, self.log = client, root, log
        self.timings: dict[str, float] = {}  # what was built, in seconds (empty: everything was there)
        self.removed: list[str] = []  # older images of a rebuilt repo, removed after the build

    def _has(self, tag: str, inputs: str | None = None) -> bool:
        import docker

        try:
            image = self.client.images.get(tag)
        except docker.errors.ImageNotFound:
            return False
        return inputs is None or (image.labels or {}).get(LABEL_INPUTS) == inputs

    def ensure_base(self) -> str:
        tag = base_tag(self.root)
        if self._has(tag):
            return tag
        script = docker_dir(self.root) / "build_base.sh"
        if shutil.which("debootstrap") is None:
            raise BackendError(f"{tag} is missing and debootstrap is not installed to build it "
                               "(apt-get install -y debootstrap; docs/docker.md)")
        started = time.monotonic()
        try:
            done = subprocess.run(["bash", str(script)], capture_output=True, text=True, timeout=BUILD_TIMEOUT_S,
                                  check=False)
        except subprocess.TimeoutExpired as exc:
            raise BackendError(f"{script} did not finish within {BUILD_TIMEOUT_S} s") from exc
        if done.returncode != 0:
            raise BackendError(f"{script} failed (exit {done.returncode}):\n{done.stderr[-LOG_TAIL_CHARS:]}")
        self.timings["base"] = time.monotonic() - started
        return tag

    def ensure(self, recipe: ImageRecipe) -> str:
        """The recipe's image for the current inputs (built if missing; also tagged ``:latest``)."""
        base = self.ensure_base()
        inputs = inputs_hash(self.root, recipe)
        tag = f"{recipe.repo}:{inputs[:12]}"
        if self._has(tag, inputs):
            return tag
        started = time.monotonic()
        with tempfile.TemporaryDirectory(prefix="ctrlab-build-") as tmp:
            # A context of exactly the hashed inputs: no node_modules or reports sent to the daemon.
            context = Path(tmp)
            for name, path in input_files(self.root, recipe):
                target = context / name
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(path, target)
            # The machine's trust store (not an input: it is how the build reaches the package index,
            # e.g. through a TLS-inspecting proxy, as the base image uses the machine's apt sources).
            shutil.copyfile(build_ca_bundle(), context / "build-ca.pem")
            self._build(context, tag, base, inputs)
        self.client.images.get(tag).tag(recipe.repo, "latest")  # for compose files and by-hand runs
        self.timings[recipe.repo.rpartition("/")[2]] = time.monotonic() - started
        self.removed += self._prune(recipe.repo, tag)  # only after a build: only then are others stale
        return tag

    def ensure_sim(self) -> str:
        return self.ensure(SIM)

    def _prune(self, repo: str, keep: str) -> list[str]:
        """Remove the repo's images built from older inputs (each edit of the sources makes one);
        an image a container still uses stays. Returns the tags removed."""
        import docker

        removed: list[str] = []
        for image in self.client.images.list(name=repo):
            if keep in image.tags:
                continue
            try:
                self.client.images.remove(image.id)
            except docker.errors.APIError:  # in use, or tagged elsewhere too: not ours to force
                continue
            removed.extend(image.tags)
        return removed

    def _build(self, context: Path, tag: str, base: str, inputs: str) -> None:
        import docker

        lines: list[str] = []
        # Its own low-level client: a build is silent for longer than the API timeout while pip runs.
        api = docker.APIClient(timeout=BUILD_TIMEOUT_S, version="auto", **docker.utils.kwargs_from_env())
        try:
            # network_mode host: RUN steps (pip, apt) must not use the default bridge; pull False: no registry.
            buildargs = {"BASE": base, **{k: os.environ[k] for k in ("PIP_INDEX_URL",) if os.environ.get(k)}}
            for chunk in api.build(path=str(context), tag=tag, buildargs=buildargs, labels={LABEL_INPUTS: inputs},
                                   network_mode="host", pull=False, rm=True, forcerm=True, decode=True):
                if "error" in chunk:
                    lines.append(str(chunk["error"]))
                    raise BackendError(f"building {tag} failed:\n" + "".join(lines)[-LOG_TAIL_CHARS:])
                lines.append(str(chunk.get("stream", "")))
        except docker.errors.DockerException as exc:
            raise BackendError(f"building {tag} failed: {exc}\n" + "".join(lines)[-LOG_TAIL_CHARS:]) from exc
        finally:
            api.close()
            if self.log is not None:
                self.log.parent.mkdir(parents=True, exist_ok=True)
                with self.log.open("a") as f:  # one log for every image of a run
                    f.write("".join(lines))


def copy_images(source: docker_sdk.DockerClient, target: docker_sdk.DockerClient, tags: list[str]) -> list[str]:
    """Copy the ``tags`` missing on ``target`` from ``source`` (``docker save | docker load`` through the API:
    an engine without a way to the package index gets the images another engine built). Returns those copied."""
    import docker

    copied: list[str] = []
    for tag in tags:
        try:
            target.images.get(tag)
            continue
        except docker.errors.ImageNotFound:
            pass
        target.images.load(source.images.get(tag).save(named=True))
        copied.append(tag)
    return copied
