"""gradflows.experiments.turnpike: profiles, modal rates and the Hamiltonian identity of trained (SL*)
controls."""

import numpy as np
import pytest
import torch
from gradflows import control as C
from gradflows import datasets as DS
from gradflows import training as TR
from gradflows.experiments import turnpike as TP


@pytest.fixture(scope="module")
def fit_and_data():
    torch.set_default_dtype(torch.float64)
    x, y = DS.separable(4, 4, margin=0.2, generator=torch.Generator().manual_seed(0))
    fit = TR.fit_controls(
        x,
        y,
        2.0,
        8,
        lam=0.05,
        running=True,
        iters=2,
        generator=torch.Generator().manual_seed(1),
        progress=False,
    )
    return fit, x, y


def test_profile_and_rates_shapes(fit_and_data):
    fit, x, y = fit_and_data
    t, phi, tm, un = TP.profile(fit, y)
    assert t.shape == (9,) and phi.shape == (9,) and tm.shape == (8,) and un.shape == (8,)
    np.testing.assert_allclose(phi.numpy(), C.training_error(fit.states, y).numpy())
    U, mu = TP.modal_rates(fit, 0.05)
    assert U.shape == (4, 4) and mu.shape == (4,) and np.all(np.diff(mu) >= 0)
    # small h: the Euler rates tend to mu_k = s_k(G) / sqrt(N lam)
    s = np.sort(
        np.linalg.svd(np.hstack([np.tanh(fit.states[-1].numpy()), np.ones((4, 1))]), compute_uv=False)
    )
    np.testing.assert_allclose(mu, s / np.sqrt(4 * 0.05), rtol=0.1)
    assert TP.output_rank(fit) == 4
    with pytest.raises(ValueError):
        TP.profile(fit, y[:3])
    with pytest.raises(ValueError):
        TP.modal_rates(fit, 0.0)


def test_modes_slopes_and_hamiltonian(fit_and_data):
    fit, x, y = fit_and_data
    phi0 = float(TP.profile(fit, y)[1][0])
    m = TP.turnpike_modes(fit, y, 0.05, phi0, 1e-12 * phi0)
    assert m["W"].dtype == bool and m["a"].shape == (9, 4) and m["drift"] >= 0
    sl = TP.window_slopes(m, fit.controls.h)
    assert len(sl["rate_a"]) == 2 and sl["slope_phi"].shape == sl["pred_phi"].shape
    tm, ratio = TP.hamiltonian_ratio(fit, y, 0.05)
    assert tm.shape == ratio.shape == (8,)
    with pytest.raises(ValueError):
        TP.turnpike_modes(fit, y, 0.05, -1.0, 1.0)
    with pytest.raises(ValueError):
        TP.window_slopes(m, 0.0)


def test_zero_padded_and_plot(fit_and_data):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fit, x, y = fit_and_data
    c = TP.zero_padded(fit.controls, 3.0)
    assert c.n_layers == 12 and c.T == 3.0 and float(c.w[8:].abs().max()) == 0.0
    torch.testing.assert_close(C.flow(c, x).x[8], fit.states[-1])
    with pytest.raises(ValueError):
        TP.zero_padded(fit.controls, 1.0)
    fig, (a, b) = plt.subplots(1, 2)
    TP.plot_profiles(a, b, {2.0: fit}, y, {2.0: {}}, window=(0.5, 1.0))
    assert len(a.lines) == 1
    plt.close(fig)


def test_plot_decay(fit_and_data, monkeypatch):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    monkeypatch.setattr(plt, "show", lambda: None)
    fit, x, y = fit_and_data
    long = TR.fit_controls(
        x, y, 4.0, 16, lam=0.05, running=True, iters=1, init=TP.zero_padded(fit.controls, 4.0), progress=False
    )
    TP.plot_decay(long, y)
    plt.close("all")


def test_hamiltonian_deviation_and_plot(fit_and_data):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fit, x, y = fit_and_data
    tm, ratio = TP.hamiltonian_ratio(fit, y, 0.05)
    dev = TP.hamiltonian_deviation(fit, y, 0.05, 0.5, 1.5)
    sel = (tm >= 0.5) & (tm <= 1.5)
    assert dev == pytest.approx(float((ratio[sel] - 1).abs().max()))
    with pytest.raises(ValueError):
        TP.hamiltonian_deviation(fit, y, 0.05, 5.0, 6.0)
    fig, ax = plt.subplots()
    TP.plot_hamiltonian(ax, {2.0: fit}, y, 0.05, {2.0: {}})
    assert len(ax.lines) == 2
    plt.close(fig)


def test_final_errors_and_profile_values(fit_and_data, capsys):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fit, x, y = fit_and_data
    fig, ax = plt.subplots()
    TP.plot_final_errors(ax, [4.0, 8.0], [0.1, 0.05], "err")
    assert len(ax.lines) == 2
    with pytest.raises(ValueError):
        TP.plot_final_errors(ax, [4.0], [0.1], "err")
    plt.close(fig)
    fit2 = TR.Fit(fit.controls, fit.states, fit.error, fit.objective, torch.tensor([2.0, 1.0]))
    TP.print_profile_values({2.0: fit2}, y, "sep", times=(0.5, 1.0, 2.0))
    out = capsys.readouterr().out
    assert out.startswith("sep, T =  2.0: phi(x(t)) at t = 0.5:") and ", t = 2:" in out
