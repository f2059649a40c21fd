"""gradflows.experiments.large_time: the tables and figures of notebooks/02-turnpike/02 on tiny inputs."""

import matplotlib
import numpy as np
import pytest
import torch
from gradflows import control as C
from gradflows import training as TR
from gradflows.experiments import large_time as LT

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def _branch():
    B = {
        T: dict(
            phi=1e-3 / T**2,
            theta=np.ones(3) * (1 + 1 / T),
            norm=1.0 - 1e-3 / T,
            J=2e-3 / T,
            eig=1.0,
            on_branch=True,
            minimizer=True,
        )
        for T in (1.0, 2.0, 4.0)
    }
    return LT.branch_limits(B, np.ones(3), np.ones(3), 1.0, 1e-3, 1e-3)


def test_branch_limits_closed_form():
    B = _branch()
    # phi = C / T^2 exactly: m = 0; theta - theta* = 1/T: d = 1/lam; g = T (1e-3 / T) / lam = 1
    for b in B.values():
        assert b["m"] == pytest.approx(0.0, abs=1e-12) and b["g"] == pytest.approx(1.0)
        np.testing.assert_allclose(b["d"], np.full(3, 1e3))
    with pytest.raises(ValueError):
        LT.branch_limits(B, np.ones(3), np.ones(3), 1.0, 0.0, 1.0)


def test_tables_print(capsys):
    B = _branch()
    LT.print_window(B, [1.0, 2.0], 1e-3, 2.0, 1.0)
    LT.print_bound_table([1, 2], [1e-3, 2e-4], [2e-3, 4e-4], B, [3e-3, 5e-4], [0.1, 0.05], 1e-30)
    LT.print_lam_sweep({1e-3: B[1.0]}, 1.0, 1.0)
    out = capsys.readouterr().out.splitlines()
    assert len(out) == 3 + 4 + 2 and out[0].startswith("      T       eps")


def test_figures_draw():
    B = _branch()
    c = C.random_controls(2, 3, 1.0, generator=torch.Generator().manual_seed(0))
    fig, axes = plt.subplots(1, 3)
    LT.plot_large_time(
        axes,
        Ts=[1, 2],
        err_T=[1e-3, 2e-4],
        B=B,
        lam=1e-3,
        norm_star=1.0,
        C_rate=1e-3,
        window=[1.0, 4.0],
        rescaled={1: c},
        u_star=c,
        kappa=2.0,
        g_pred=1.0,
    )
    plt.close(fig)
    fig, axes = plt.subplots(1, 2)
    lams = np.array([1e-3, 1e-2])
    LT.plot_lam_sweep(
        axes,
        lams=lams,
        err_lam=lams**2,
        norm_lam=[1.0, 0.9],
        T=4.0,
        norm_star=1.0,
        norm_star_T=0.25,
        C_lam=1.0,
    )
    plt.close(fig)
    fig, axes = plt.subplots(1, 2)
    W = np.array([[1.0, 0.1], [1.0, 0.05], [1.0, 0.02], [1.0, 0.01], [1.0, 0.0]])
    LT.plot_max_margin(
        axes,
        X=np.eye(2),
        ys=np.array([1.0, -1.0]),
        S=[0],
        w_path=W,
        e_perp=np.array([0.0, 1.0]),
        lams=np.array([1e-1, 1e-2]),
        angle_path=np.array([0.1, 0.05]),
        A_pred=0.5,
        s_lam=np.array([2.0, 4.0]),
        t_gd=np.array([1.0, 10.0]),
        angle_gd=np.array([0.2, 0.1]),
    )
    plt.close(fig)
    x0, y = torch.tensor([[0.5, 0.2], [-0.4, 0.3]]), torch.tensor([1.0, -1.0])
    fit = TR.fit_controls(x0, y, 1.0, 2, iters=1, generator=torch.Generator().manual_seed(1), progress=False)
    plt.show = lambda: None  # noqa: E731 (the figure is drawn, not shown)
    LT.plot_explorer(
        fit,
        y=y,
        title="t",
        lam_eff=1e-3,
        bound=1e-2,
        path=([1e-3], [1e-3]),
        sweep=([1e-2], [1e-2]),
        phi_star=0.0,
        norm_star=1.0,
    )
    plt.close("all")


def test_print_angle_table(capsys):
    lams = np.array([1e-1, 1e-2])
    W = np.array([[1.0, 0.1], [2.0, 0.1]])
    LT.print_angle_table(
        lams, W, [0.99, 0.999], [0.1, 0.05], [1.0, 0.9], [False, True], [0.04], [1e-3], [1e-9, 1e-9]
    )
    out = capsys.readouterr().out.splitlines()
    assert len(out) == 3 and "-" in out[1] and "+1.00e-02" in out[2]
