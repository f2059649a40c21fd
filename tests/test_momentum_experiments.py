"""gradflows.experiments.momentum: Adam variants, slow manifold, flows and figures (notebook 01-sgd/02)."""

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402
from gradflows import adam, landscapes, nets  # noqa: E402
from gradflows import ode_optimizers as odeo  # noqa: E402
from gradflows.experiments import momentum as mex  # noqa: E402
from gradflows.references import adam_ode as ref_adam  # noqa: E402
from torch.nn.utils import parameters_to_vector  # noqa: E402


@pytest.fixture
def small_net():
    net = nets.MLP(
        [1, 4, 1], activation="tanh", generator=torch.Generator().manual_seed(0), dtype=torch.float64
    )
    x = torch.linspace(-1, 1, 8, dtype=torch.float64).unsqueeze(-1)
    return net, x, torch.sin(x), parameters_to_vector(net.parameters()).detach().clone()


def test_flat_mse_gradient_and_torch_adam_agree_with_library_adam(small_net, capsys):
    net, x, y, theta0 = small_net
    loss, grad = mex.flat_mse(net, x, y)
    h = 1e-6 * torch.eye(len(theta0), dtype=torch.float64)[0]
    fd = (loss(theta0 + h) - loss(theta0 - h)) / 2e-6
    assert float(grad(theta0)[0]) == pytest.approx(float(fd), rel=1e-6)
    theta_torch = ref_adam.torch_adam_iterates(net, theta0, x, y, 5)
    assert theta_torch.shape == (6, len(theta0))
    runs = {"lib": adam.adam(grad, theta0, 5)}
    assert (runs["lib"].W - theta_torch).abs().max() < 1e-12
    mex.print_deviations(theta_torch, runs, loss)
    assert "torch.optim.Adam" in capsys.readouterr().out
    mex.plot_deviations(theta_torch, runs, loss, every=2)
    plt.close("all")
    with pytest.raises(ValueError):
        mex.flat_mse(net, x, y[:3])
    with pytest.raises(ValueError):
        ref_adam.torch_adam_iterates(net, theta0, x, y, 0)


def test_slow_manifold_runs_shapes_and_plot():
    J, grad = landscapes.quartic(torch.tensor([1.0, 2.0], dtype=torch.float64))
    runs = mex.slow_manifold_runs(J, grad, torch.tensor([3.0, -2.0], dtype=torch.float64), (1, 2), 0.2, 0.05)
    assert set(runs) == {1, 2} and runs[1]["gap"].shape == runs[1]["t"].shape and len(runs[1]["t"]) >= 5
    mex.plot_slow_manifold(runs)
    plt.close("all")
    with pytest.raises(ValueError):
        mex.slow_manifold_runs(J, grad, torch.tensor([3.0, -2.0]), (1,), -1.0, 0.05)


def test_run_flows_limit_errors_and_figures(capsys):
    J, g = landscapes.six_hump, landscapes.grad_six_hump
    W0, Z0 = torch.tensor([2.0, -0.3], dtype=torch.float64), torch.zeros(2, dtype=torch.float64)
    flows = {"gradient flow": odeo.gradient_flow(J, g), "heavy ball": odeo.heavy_ball(J, g)}
    runs = mex.run_flows(flows, (W0, Z0, g(W0) ** 2), 0.01, 5, J)
    assert runs["heavy ball"].W.shape == (6, 2) and "W(10)" in capsys.readouterr().out
    hb = flows["heavy ball"]
    E_ref = hb.energy((W0, Z0))
    tr = runs["heavy ball"]
    mex.plot_heavy_ball_drift(
        hb.energy, E_ref, {"RK4": (tr.times, tr.states)}, {"q": (tr.times, tr.times + 1)}, 4.0, 0.1
    )
    plt.close("all")
    W0b = torch.tensor([1.0, -1.0], dtype=torch.float64)
    errs = mex.adam_limit_errors(g, W0b, (2e-2, 1e-2), 0.05, 0.5, 0.1, 1e-8, np.zeros(2), np.zeros(2))
    assert len(errs) == 3 and all(len(e) == 2 for e in errs)
