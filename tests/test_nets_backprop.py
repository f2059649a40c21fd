"""Networks, weight norms and Jacobian back-propagation against torch.autograd."""

import numpy as np
import pytest
import torch
from gradflows import backprop as bp
from gradflows import nets


@pytest.mark.parametrize("activation", ["sigmoid", "tanh", "relu"])
def test_jacobian_backprop_matches_autograd(activation):
    torch.manual_seed(1)
    net = nets.MLP([3, 5, 4, 2], activation=activation, init="normal")
    x = torch.randn(3)
    y = torch.randn(2)
    out = bp.jacobian_backprop(net, x, lambda f: f - y)
    xr = x.clone().requires_grad_(True)
    loss = 0.5 * ((net(xr) - y) ** 2).sum()
    net.zero_grad()
    loss.backward()
    assert torch.allclose(out["x"], xr.grad, atol=1e-12)
    for r, layer in enumerate(net.layers):
        assert torch.allclose(out["b"][r], layer.bias.grad, atol=1e-12)
        assert torch.allclose(out["W"][r].T, layer.weight.grad, atol=1e-12)


def test_forward_states_shapes():
    net = nets.MLP([2, 3, 1], activation="tanh")
    hs, zs = bp.forward_states(net, torch.randn(2))
    assert [h.shape[0] for h in hs] == [2, 3] and [z.shape[0] for z in zs] == [3, 1]
    assert torch.allclose(zs[-1], net(hs[0]).detach())


def test_mlp_inits_and_shapes():
    z = nets.MLP([2, 4, 1], activation="relu", init="zeros")
    assert all(float(p.detach().abs().sum()) == 0 for p in z.parameters())
    n = nets.MLP([2, 4, 1], init="normal", generator=torch.Generator().manual_seed(0))
    assert n(torch.randn(7, 2)).shape == (7, 1)
    assert len(n.weights) == 2 and n.weights[0].shape == (4, 2)


@pytest.mark.parametrize(
    "kw, msg",
    [
        ({"sizes": [3]}, "sizes"),
        ({"sizes": [3, 0, 1]}, "sizes"),
        ({"activation": "swish"}, "activation"),
        ({"init": "ones"}, "init"),
    ],
)
def test_mlp_bad_arguments(kw, msg):
    args = {"sizes": [2, 3, 1]} | kw
    with pytest.raises(ValueError, match=msg):
        nets.MLP(**args)


def test_mlp_wrong_input():
    with pytest.raises(ValueError, match="last dimension 2"):
        nets.MLP([2, 3, 1])(torch.randn(4, 3))


def test_induced_norms_match_numpy():
    W = torch.randn(4, 3)
    for ord_ in (1, 2, float("inf")):
        assert float(nets.induced_norm(W, ord_)) == pytest.approx(np.linalg.norm(W.numpy(), ord_))
    with pytest.raises(ValueError, match="ord"):
        nets.induced_norm(W, "fro")


@pytest.mark.parametrize("activation", ["tanh", "sigmoid", "relu"])
def test_lipschitz_bound_dominates_jacobians(activation):
    net = nets.MLP([3, 8, 8, 2], activation=activation, init="normal")
    x = 2 * torch.randn(200, 3)
    Jx = nets.input_jacobian(net, x)
    assert Jx.shape == (200, 2, 3)
    ref = torch.autograd.functional.jacobian(net, x[0])
    assert torch.allclose(Jx[0], ref, atol=1e-12)
    for ord_ in (1, 2, float("inf")):
        norms = torch.linalg.matrix_norm(Jx, ord=ord_)
        assert bool((norms <= nets.lipschitz_bound(net, ord_) + 1e-12).all())


def test_backprop_bad_inputs():
    net = nets.MLP([3, 2, 1], activation="sigmoid")
    with pytest.raises(ValueError, match="length 3"):
        bp.jacobian_backprop(net, torch.randn(2), lambda f: f)
    with pytest.raises(ValueError, match="dimension"):
        bp.jacobian_backprop(net, torch.randn(1, 3), lambda f: f)
    with pytest.raises(TypeError, match="MLP"):
        bp.jacobian_backprop(torch.nn.Linear(3, 1), torch.randn(3), lambda f: f)
    with pytest.raises(ValueError, match="derivative"):
        bp.jacobian_backprop(nets.MLP([3, 1], "leaky_relu"), torch.randn(3), lambda f: f)
    with pytest.raises(TypeError, match="MLP"):
        nets.lipschitz_bound(torch.nn.Linear(2, 2))


def test_mlp_device(device):
    net = nets.MLP([2, 16, 1], device=device)
    assert net(torch.randn(5, 2, device=device)).device.type == device
