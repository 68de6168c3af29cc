"""One error tree: each class defined once with its own code, HTTP status and field as data on the error."""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Iterator

import pytest

import engine
import installer
from engine.errors import BadRequestError, EngineError, InternalError, UnsafeNameError
from engine.models.errors import PickleRefusedError
from installer.errors import BrokenModelError, MapleError, ModelNotFoundError, UnsafePathError


def _subclasses(cls: type) -> Iterator[type]:
    for sub in cls.__subclasses__():
        yield sub
        yield from _subclasses(sub)


def _tree() -> list[type[MapleError]]:
    for pkg in (engine, installer):
        for info in pkgutil.walk_packages(pkg.__path__, pkg.__name__ + "."):
            importlib.import_module(info.name)
    return [c for c in _subclasses(MapleError) if c.__module__.startswith(("engine.", "installer."))]


def test_every_error_has_its_own_name_and_code() -> None:
    tree = _tree()
    names = [c.__name__ for c in tree]
    codes = [c.__dict__["code"] for c in tree if "code" in c.__dict__]
    assert len(tree) > 30
    assert sorted(n for n in set(names) if names.count(n) > 1) == []
    assert sorted(c for c in set(codes) if codes.count(c) > 1) == []
    assert all("code" in c.__dict__ for c in tree), [c.__name__ for c in tree if "code" not in c.__dict__]


def test_status_and_field_are_data_per_class_and_per_instance() -> None:
    assert (MapleError.status, EngineError.status, InternalError.status) == (400, 500, 500)
    assert (ModelNotFoundError.status, UnsafePathError.status, PickleRefusedError.status) == (404, 422, 400)
    error = BadRequestError.about("steps", "must be at most 150")
    assert (error.message, error.field, error.status) == ("steps: must be at most 150", "steps", 422)
    assert error.to_dict() == {"error": "bad-request", "detail": "steps: must be at most 150", "hint": "", "field": "steps"}
    moved = BrokenModelError("cut.safetensors is truncated", field="sd_model_checkpoint", status=409)
    assert (moved.field, moved.status, BrokenModelError.status, BrokenModelError.field) == ("sd_model_checkpoint", 409, 400, None)
    assert isinstance(UnsafeNameError("x"), UnsafePathError) and UnsafeNameError.status == 422


@pytest.mark.parametrize("name", ["../x.safetensors", "/etc/passwd", "C:\\x.ckpt", "a\x00b", "", "a/.. [abc]"])
def test_the_one_name_check_names_the_field(name: str) -> None:
    from engine.models.registry import check_name

    with pytest.raises(UnsafeNameError) as err:
        check_name(name, "override_settings.sd_vae")
    assert err.value.field == "override_settings.sd_vae" and err.value.message.startswith("override_settings.sd_vae: ")
    assert check_name(" anime/x.safetensors [0123456789] ") == "anime/x.safetensors [0123456789]"
