"""Random-batch splitting against numpy's least squares and scipy's matrix exponential."""

import numpy as np
import pytest
import scipy.linalg
import torch
from gradflows import DivergenceError
from gradflows import batches as B


def _data(N=60, m=3, n=2, seed=0):
    g = torch.Generator().manual_seed(seed)
    X = torch.randn(N, m, generator=g)
    Y = X @ torch.randn(m, n, generator=g) + 0.1 * torch.randn(N, n, generator=g)
    return X, Y


def test_minimizer_matches_numpy_lstsq():
    X, Y = _data()
    W = B.least_squares_minimizer(X, Y)
    ref = np.linalg.lstsq(X.numpy(), Y.numpy(), rcond=None)[0].T
    np.testing.assert_allclose(W.numpy(), ref, atol=1e-12)
    alpha = torch.linspace(0.5, 2.0, X.shape[0])
    Wa = B.least_squares_minimizer(X, Y, alpha)
    s = np.sqrt(alpha.numpy())[:, None]
    ref_a = np.linalg.lstsq(s * X.numpy(), s * Y.numpy(), rcond=None)[0].T
    np.testing.assert_allclose(Wa.numpy(), ref_a, atol=1e-12)


def test_objective_value_and_batching():
    X, Y = _data(N=5)
    W = torch.randn(2, 3)
    direct = 0.5 * sum(float(((W @ X[i] - Y[i]) ** 2).sum()) for i in range(5))
    assert float(B.least_squares_objective(W, X, Y)) == pytest.approx(direct)
    assert B.least_squares_objective(torch.stack([W, W]), X, Y).shape == (2,)


def test_one_batch_exact_flow_is_matrix_exponential():
    X, Y = _data(N=20)
    W0 = torch.randn(2, 3)
    out = B.random_batch_splitting(X, Y, 1, 0.3, 1, W0=W0, exact=True).W
    A, C = (X.T @ X).numpy(), (Y.T @ X).numpy()
    Ws = np.linalg.solve(A, C.T).T
    ref = (W0.numpy() - Ws) @ scipy.linalg.expm(-A * 0.3) + Ws
    np.testing.assert_allclose(out[-1].numpy(), ref, atol=1e-10)


def test_decaying_steps_converge_constant_steps_stall():
    X, Y = _data()
    Ws = B.least_squares_minimizer(X, Y)
    g = torch.Generator().manual_seed(1)
    dec = B.random_batch_splitting(X, Y, 6, lambda k: 0.05 / (1 + 0.05 * k), 400, generator=g).W
    const = B.random_batch_splitting(X, Y, 6, 0.02, 400, generator=torch.Generator().manual_seed(1)).W
    err_dec = (dec[-1] - Ws).norm()
    err_const = (const[-50:] - Ws).flatten(1).norm(dim=1).mean()
    assert err_dec < 0.5 * err_const


def test_step_sequence_and_singular_batches():
    X, Y = _data(N=12)
    out = B.random_batch_splitting(X, Y, 12, [0.01] * 3, 3, exact=True).W  # rank-one batches
    assert out.shape == (4, 2, 3) and torch.isfinite(out).all()


@pytest.mark.parametrize(
    "kw, msg",
    [
        ({"n_batches": 0}, "n_batches"),
        ({"n_batches": 100}, "exceeds"),
        ({"dt": -0.1}, "dt"),
        ({"dt": [0.1]}, "dt has"),
        ({"dt": lambda k: 0.0}, "dt"),
        ({"n_epochs": -1}, "n_epochs"),
        ({"n_draws": 0}, "n_draws"),
        ({"W0": torch.zeros(3, 2)}, "W0 must have shape"),
        ({"alpha": -torch.ones(60)}, "alpha"),
    ],
)
def test_splitting_bad_arguments(kw, msg):
    X, Y = _data()
    args = {"n_batches": 3, "dt": 0.1, "n_epochs": 2} | kw
    with pytest.raises(ValueError, match=msg):
        B.random_batch_splitting(X, Y, **args)


def test_bad_data():
    X, Y = _data()
    with pytest.raises(ValueError, match="same number of rows"):
        B.least_squares_minimizer(X, Y[:-1])
    with pytest.raises(ValueError, match="dimension"):
        B.least_squares_minimizer(X[:, 0], Y)
    with pytest.raises(ValueError, match="singular"):
        B.least_squares_minimizer(torch.ones(5, 2), torch.ones(5, 1))
    with pytest.raises(DivergenceError, match="diverged: W has non-finite values at epoch"):
        B.random_batch_splitting(X * 100, Y, 2, 10.0, 50)
    with pytest.raises(ValueError, match="NaN"):
        B.least_squares_minimizer(X * float("nan"), Y)


@pytest.mark.parametrize("exact", [False, True])
def test_independent_draws_match_a_numpy_replay(exact):
    # n_draws chains at once: replay the partitions from the same generator stream and redo every
    # sub-step in numpy (scipy's expm for the exact sub-flows); uneven batches (20 samples, 3 batches)
    X, Y = _data(N=20)
    alpha = torch.linspace(0.5, 1.5, 20)
    steps = [0.3, 0.2, 0.1]
    out = B.random_batch_splitting(
        X, Y, 3, steps, 3, alpha=alpha, exact=exact, generator=torch.Generator().manual_seed(5), n_draws=4
    ).W
    assert out.shape == (4, 4, 2, 3)
    g = torch.Generator().manual_seed(5)
    Xn, Yn, an = X.numpy(), Y.numpy(), alpha.numpy()
    W = np.zeros((4, 2, 3))
    for k, dt in enumerate(steps):
        perms = torch.argsort(torch.rand(4, 20, generator=g), dim=1).numpy()
        for d in range(4):
            for idx in np.array_split(perms[d], 3):
                A = (an[idx, None] * Xn[idx]).T @ Xn[idx]
                C = (an[idx, None] * Yn[idx]).T @ Xn[idx]
                if exact:
                    Ws = np.linalg.solve(A, C.T).T
                    W[d] = (W[d] - Ws) @ scipy.linalg.expm(-A * dt) + Ws
                else:
                    W[d] = W[d] - dt * (W[d] @ A - C)
        np.testing.assert_allclose(out[k + 1].numpy(), W, atol=1e-12)
    single = B.random_batch_splitting(
        X, Y, 3, steps, 3, alpha=alpha, exact=exact, generator=torch.Generator().manual_seed(5)
    ).W
    one = B.random_batch_splitting(
        X, Y, 3, steps, 3, alpha=alpha, exact=exact, generator=torch.Generator().manual_seed(5), n_draws=1
    ).W
    assert single.shape == (4, 2, 3) and torch.equal(single, one[:, 0])
