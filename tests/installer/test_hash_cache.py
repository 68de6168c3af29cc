"""cache/hashes.json: records survive restarts, go stale with the file, and a damaged cache is rebuilt."""

from __future__ import annotations

import json
from pathlib import Path

from installer.store.hash_cache import FileRecord, HashCache, remember_hash

SHA = "ab" * 32


def test_records_survive_a_restart(tmp_path: Path) -> None:
    cache_file = tmp_path / "cache" / "hashes.json"
    cache = HashCache(cache_file)
    cache.put(tmp_path / "m.safetensors", FileRecord(10, 123, kind="lora", arch="sd1", sha256=SHA, tensor_sha256="cd" * 32))
    cache.save()
    again = HashCache(cache_file)
    rec = again.get(tmp_path / "m.safetensors", 10, 123)
    assert rec is not None and rec.sha256 == SHA and rec.tensor_sha256 == "cd" * 32 and rec.kind == "lora"


def test_a_changed_size_or_mtime_is_a_miss(tmp_path: Path) -> None:
    cache = HashCache(tmp_path / "hashes.json")
    cache.put(tmp_path / "m", FileRecord(10, 123, sha256=SHA))
    assert cache.get(tmp_path / "m", 10, 123) is not None
    assert cache.get(tmp_path / "m", 11, 123) is None
    assert cache.get(tmp_path / "m", 10, 124) is None
    assert cache.get(tmp_path / "other", 10, 123) is None


def test_a_damaged_cache_is_rebuilt_not_fatal(tmp_path: Path) -> None:
    cache_file = tmp_path / "hashes.json"
    for garbage in (b"{not json", b"\xff\xfe\x00", b'{"version": 99, "files": {}}', b"[1, 2]",
                    b'{"version": 1, "files": {"/x": {"size": "big"}, "/y": {"size": 1, "mtime_ns": 2, "sha256": "ab"}}}'):
        cache_file.write_bytes(garbage)
        cache = HashCache(cache_file)
        assert cache.get(Path("/x"), 1, 2) is None
        cache.put(tmp_path / "m", FileRecord(1, 2, sha256=SHA))
        cache.save()
        data = json.loads(cache_file.read_text())
        assert data["version"] == 1 and data["files"][str(tmp_path / "m")]["sha256"] == SHA
    assert sorted(p.name for p in tmp_path.iterdir() if not p.name.endswith(".lock")) == ["hashes.json"]


def test_two_processes_saving_merge_instead_of_overwriting(tmp_path: Path) -> None:
    cache_file = tmp_path / "hashes.json"
    first, second = HashCache(cache_file), HashCache(cache_file)
    first.put(tmp_path / "a", FileRecord(1, 1, sha256=SHA))
    second.put(tmp_path / "b", FileRecord(2, 2, sha256="cd" * 32))
    first.save()
    second.save()
    merged = HashCache(cache_file)
    assert merged.get(tmp_path / "a", 1, 1) is not None
    assert merged.get(tmp_path / "b", 2, 2) is not None


def test_forgotten_records_are_not_brought_back_by_the_merge(tmp_path: Path) -> None:
    cache_file = tmp_path / "hashes.json"
    cache = HashCache(cache_file)
    cache.put(tmp_path / "a", FileRecord(1, 1, sha256=SHA))
    cache.save()
    cache.forget(tmp_path / "a")
    cache.save()
    assert HashCache(cache_file).get(tmp_path / "a", 1, 1) is None


def test_nothing_is_written_when_nothing_changed(tmp_path: Path) -> None:
    cache_file = tmp_path / "hashes.json"
    cache = HashCache(cache_file)
    cache.save()
    assert not cache_file.exists()
    cache.put(tmp_path / "a", FileRecord(1, 1))
    cache.save()
    before = cache_file.stat().st_mtime_ns
    cache.put(tmp_path / "a", FileRecord(1, 1))
    assert not cache.dirty
    cache.save()
    assert cache_file.stat().st_mtime_ns == before


def test_remember_hash_records_a_downloaded_file(tmp_path: Path) -> None:
    model = tmp_path / "m.safetensors"
    model.write_bytes(b"x" * 100)
    remember_hash(tmp_path / "hashes.json", model, SHA.upper())
    st = model.stat()
    rec = HashCache(tmp_path / "hashes.json").get(model, st.st_size, st.st_mtime_ns)
    assert rec is not None and rec.sha256 == SHA and rec.kind is None
