import gradflows as gf
import numpy as np
import pytest
import torch
from gradflows.device import show_progress


def test_get_device_default_and_override(monkeypatch):
    monkeypatch.delenv("GRADFLOWS_DEVICE", raising=False)
    expected = "cuda" if torch.cuda.is_available() else "cpu"
    assert gf.get_device().type == expected
    monkeypatch.setenv("GRADFLOWS_DEVICE", "cpu")
    assert gf.get_device() == torch.device("cpu")


@pytest.mark.parametrize("bad", ["gpu0", "tpu", "cuda:x"])
def test_get_device_rejects_unknown(monkeypatch, bad):
    monkeypatch.setenv("GRADFLOWS_DEVICE", bad)
    with pytest.raises(ValueError, match="GRADFLOWS_DEVICE"):
        gf.get_device()


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without CUDA")
def test_get_device_cuda_missing(monkeypatch):
    monkeypatch.setenv("GRADFLOWS_DEVICE", "cuda")
    with pytest.raises(ValueError, match="not available"):
        gf.get_device()


def test_seed_is_reproducible():
    gf.seed(3)
    a = (torch.rand(3), np.random.rand(3))
    gf.seed(3)
    b = (torch.rand(3), np.random.rand(3))
    assert torch.equal(a[0], b[0]) and np.array_equal(a[1], b[1])
    g = gf.seed(5)
    assert isinstance(g, torch.Generator)


@pytest.mark.parametrize(
    "bad, error", [(-1, ValueError), (1.5, TypeError), ("0", TypeError), (True, TypeError)]
)
def test_seed_rejects(bad, error):
    with pytest.raises(error, match="offset"):
        gf.seed(bad)


def test_base_seed_shifts_every_draw(monkeypatch):
    monkeypatch.delenv("GRADFLOWS_SEED", raising=False)
    assert gf.base_seed() == 0
    a = (torch.rand(3, generator=gf.seed(2)), gf.numpy_rng(2).random(3))
    monkeypatch.setenv("GRADFLOWS_SEED", "1")
    assert gf.base_seed() == 1
    b = (torch.rand(3, generator=gf.seed(1)), gf.numpy_rng(1).random(3))  # 1 + 1 = 0 + 2
    assert torch.equal(a[0], b[0]) and np.array_equal(a[1], b[1])
    gf.seed(1)
    c = torch.rand(3)
    assert torch.equal(c, a[0])  # the global torch state follows the same value


@pytest.mark.parametrize("bad", ["-1", "x", "1.5"])
def test_base_seed_rejects(monkeypatch, bad):
    monkeypatch.setenv("GRADFLOWS_SEED", bad)
    with pytest.raises(ValueError, match="GRADFLOWS_SEED"):
        gf.seed(0)


def test_scale_switch(monkeypatch):
    monkeypatch.delenv("GRADFLOWS_SCALE", raising=False)
    assert gf.scale() == "book" and gf.by_scale(1, 2) == 1
    monkeypatch.setenv("GRADFLOWS_SCALE", "paper")
    assert gf.scale() == "paper" and gf.by_scale(1, 2) == 2
    monkeypatch.setenv("GRADFLOWS_SCALE", "huge")
    with pytest.raises(ValueError, match="GRADFLOWS_SCALE"):
        gf.scale()


def test_show_progress(monkeypatch):
    assert show_progress(True, 1) and not show_progress(False, 10**6)
    monkeypatch.setenv("GRADFLOWS_PROGRESS", "0")
    assert not show_progress(None, 10**6)
    monkeypatch.setenv("GRADFLOWS_PROGRESS", "1")
    assert show_progress(None, 10**6) and not show_progress(None, 10)
