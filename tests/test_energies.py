import math

import numpy as np
import ot
import pytest
import torch
from gradflows import energies as E
from scipy import integrate
from scipy.optimize import linear_sum_assignment
from scipy.spatial import cKDTree


def _gauss(x, a, s):
    return torch.exp(-0.5 * ((x - a) / s) ** 2) / (s * math.sqrt(2 * math.pi))


@pytest.mark.parametrize("sigma", [0.4, 1.0])
def test_gibbs_density_matches_quad_normalisation(sigma):
    def f(x):
        return (x**2 - 1) ** 2 / 4

    Z, _ = integrate.quad(lambda x: math.exp(-2 * f(x) / sigma**2), -np.inf, np.inf)
    for x in (torch.linspace(-4, 4, 4001), torch.sinh(torch.linspace(-2.1, 2.1, 4001))):
        m = E.gibbs_density(f(x), x, sigma)
        exact = torch.exp(-2 * f(x) / sigma**2) / Z
        assert torch.allclose(m, exact, rtol=1e-5, atol=1e-10)
        assert float(E.trapezoid(m, x)) == pytest.approx(1.0, abs=1e-12)


def test_gibbs_density_small_sigma_does_not_underflow():
    x = torch.linspace(-2, 2, 2001)
    m = E.gibbs_density(1e4 + (x**2 - 1) ** 2 / 4, x, 0.05)
    assert bool(torch.isfinite(m).all()) and float(E.trapezoid(m, x)) == pytest.approx(1.0)


def test_entropy_1d_gaussian_closed_form():
    s = 0.7
    x = torch.linspace(-12, 12, 8001)
    m = _gauss(x, 0.3, s)
    # ∫ m log m = -h(N(a, s^2)) = -log(2 pi e s^2) / 2
    assert float(E.entropy_1d(m, x)) == pytest.approx(-0.5 * math.log(2 * math.pi * math.e * s**2), abs=1e-8)
    batch = torch.stack([m, _gauss(x, 0.0, 2 * s)])
    assert E.entropy_1d(batch, x).shape == (2,)
    # 0 log 0 = 0 on a compactly supported density: uniform on [0, 1] has ∫ m log m = 0
    u = ((x >= 0) & (x <= 1)).double()
    assert bool(torch.isfinite(E.entropy_1d(u, x)))


def test_relative_entropy_1d_kl_closed_form():
    a, s = 0.8, 0.6
    x = torch.linspace(-12, 12, 8001)
    kl = math.log(1 / s) + (s**2 + a**2) / 2 - 0.5
    assert float(E.relative_entropy_1d(_gauss(x, a, s), _gauss(x, 0, 1), x)) == pytest.approx(kl, abs=1e-8)
    with pytest.raises(ValueError, match="reference vanishes"):
        E.relative_entropy_1d(_gauss(x, 0, 1), (x > 0).double(), x)


def test_free_energy_1d_is_minimised_by_gibbs():
    sigma = 0.8
    x = torch.linspace(-5, 5, 4001)
    fv = (x**2 - 1) ** 2 / 4
    m_inf = E.gibbs_density(fv, x, sigma)
    # at the minimiser the free energy equals -(sigma^2/2) log Z, Z by quadrature
    Z, _ = integrate.quad(lambda t: math.exp(-2 * ((t * t - 1) ** 2 / 4) / sigma**2), -np.inf, np.inf)
    value = float(E.free_energy_1d(m_inf, fv, x, sigma))
    assert value == pytest.approx(-0.5 * sigma**2 * math.log(Z), abs=1e-6)
    other = E.gibbs_density(fv, x, 1.3 * sigma)
    assert float(E.free_energy_1d(other, fv, x, sigma)) > float(E.free_energy_1d(m_inf, fv, x, sigma))
    # with the Gaussian reference: ∫ f m + (s^2/2) H(m|g), H from the closed-form KL
    x = torch.linspace(-12, 12, 8001)
    fv = (x**2 - 1) ** 2 / 4
    m, g = _gauss(x, 0.5, 1.0), _gauss(x, 0.0, 1.0)
    expected = float(torch.trapezoid(fv * m, x)) + 0.5 * sigma**2 * 0.125
    assert float(E.free_energy_1d(m, fv, x, sigma, reference=g)) == pytest.approx(expected, abs=1e-8)


def test_knn_distances_match_kdtree():
    gen = torch.Generator().manual_seed(1)
    for d in (1, 2, 3):
        X = 100 + torch.randn(500, d, generator=gen)  # off-centre: the candidate search must not cancel
        dist, _ = cKDTree(X.numpy()).query(X.numpy(), k=4)
        for k in (1, 3):
            got = E._knn_distances(X, k, chunk=128)
            assert np.allclose(got.numpy(), dist[:, k], rtol=1e-12)


@pytest.mark.parametrize("d", [1, 2, 3])
def test_knn_entropy_gaussian(d):
    # n = 2e4, k = 1: over 300 replications the estimator's standard deviation is 0.011 (d=1) to
    # 0.015 (d=3) and its bias < 0.01, so 0.04 is a band of about 3 standard deviations (and the
    # seed is fixed, so the test is deterministic).
    gen = torch.Generator().manual_seed(d)
    A = torch.tensor([[1.0, 0.0, 0.0], [0.5, 0.8, 0.0], [-0.3, 0.2, 1.5]])[:d, :d]
    cov = A @ A.T
    X = torch.randn(20_000, d, generator=gen) @ A.T
    exact = float(E.gaussian_entropy(cov))
    assert float(E.knn_entropy(X)) == pytest.approx(exact, abs=0.04)
    if d == 1:
        # H(N(0, s^2) | N(0, 1)) = -log s + (s^2 - 1) / 2
        s2 = float(cov[0, 0])
        kl = -0.5 * math.log(s2) + (s2 - 1) / 2
        assert float(E.relative_entropy_to_gaussian(X[:, 0])) == pytest.approx(kl, abs=0.04)


def test_gaussian_entropy_closed_form():
    assert float(E.gaussian_entropy(2.0)) == pytest.approx(0.5 * math.log(2 * math.pi * math.e * 2.0))
    cov = np.array([[2.0, 0.3], [0.3, 0.5]])
    ref = 0.5 * math.log((2 * math.pi * math.e) ** 2 * np.linalg.det(cov))
    assert float(E.gaussian_entropy(torch.tensor(cov))) == pytest.approx(ref)


def _emd_w2(x, y):
    x = x.reshape(len(x), -1).numpy()
    y = y.reshape(len(y), -1).numpy()
    M = ((x[:, None, :] - y[None, :, :]) ** 2).sum(-1)
    return math.sqrt(ot.emd2(np.full(len(x), 1 / len(x)), np.full(len(y), 1 / len(y)), M))


def test_w2_1d_vs_pot():
    gen = torch.Generator().manual_seed(2)
    x = torch.randn(37, generator=gen)
    for m in (37, 23, 74, 1):
        y = 2 + 0.5 * torch.randn(m, generator=gen)
        assert float(E.w2_1d(x, y)) == pytest.approx(_emd_w2(x, y), rel=1e-10)
    # a translate is at distance |shift|
    assert float(E.w2_1d(x, x + 0.7)) == pytest.approx(0.7)


def test_w2_multid_vs_assignment_and_1d():
    gen = torch.Generator().manual_seed(3)
    x, y = torch.randn(60, 3, generator=gen), 1 + torch.randn(60, 3, generator=gen)
    C = torch.cdist(x, y).square().numpy()
    r, c = linear_sum_assignment(C)
    assert float(E.w2(x, y)) == pytest.approx(math.sqrt(C[r, c].mean()), rel=1e-10)
    x1, y1 = torch.randn(50, 1, generator=gen), torch.randn(30, 1, generator=gen)
    assert float(E.w2(x1, y1)) == pytest.approx(float(E.w2_1d(x1[:, 0], y1[:, 0])), rel=1e-12)
    y2 = torch.randn(45, 3, generator=gen)
    assert float(E.w2(x, y2)) == pytest.approx(_emd_w2(x, y2), rel=1e-10)


def test_w2_gaussian_vs_pot_bures():
    gen = torch.Generator().manual_seed(4)
    A, B = torch.randn(3, 3, generator=gen), torch.randn(3, 3, generator=gen)
    S1, S2 = A @ A.T + 0.1 * torch.eye(3), B @ B.T + 0.1 * torch.eye(3)
    m1, m2 = torch.randn(3, generator=gen), torch.randn(3, generator=gen)
    ref = float(ot.gaussian.bures_wasserstein_distance(m1.numpy(), m2.numpy(), S1.numpy(), S2.numpy()))
    assert float(E.w2_gaussian(m1, S1, m2, S2)) == pytest.approx(ref, rel=1e-8)
    # 1-D: sqrt((m1 - m2)^2 + (s1 - s2)^2)
    assert float(E.w2_gaussian(0.3, 4.0, -0.2, 0.25)) == pytest.approx(math.sqrt(0.25 + 1.5**2))
    # commuting (diagonal) covariances: |m1 - m2|^2 + sum (sqrt a_i - sqrt b_i)^2
    a, b = torch.tensor([1.0, 2.0, 0.5]), torch.tensor([3.0, 0.2, 0.5])
    ref = math.sqrt(float(((a.sqrt() - b.sqrt()) ** 2).sum()))
    got = E.w2_gaussian(torch.zeros(3), torch.diag(a), torch.zeros(3), torch.diag(b))
    assert float(got) == pytest.approx(ref)


def test_device_and_dtype(device):
    gen = torch.Generator().manual_seed(5)
    X = torch.randn(300, 2, generator=gen)
    Y = torch.randn(200, 2, generator=gen)
    ref_h, ref_w = float(E.knn_entropy(X)), float(E.w2(X, Y))
    Xd, Yd = X.to(device, torch.float32), Y.to(device, torch.float32)
    h, w = E.knn_entropy(Xd), E.w2(Xd, Yd)
    eye = torch.eye(2, device=device, dtype=torch.float32)
    for t in (h, w, E.w2_1d(Xd[:, 0], Yd[:, 0]), E.w2_gaussian(Xd[0], eye, Yd[0], 2 * eye)):
        assert t.device.type == device and t.dtype == torch.float32
    assert float(h) == pytest.approx(ref_h, abs=1e-4) and float(w) == pytest.approx(ref_w, rel=1e-5)
    x = torch.linspace(-5, 5, 201, device=device, dtype=torch.float32)
    m = E.gibbs_density(x**2 / 2, x, 1.0)
    assert m.device.type == device and m.dtype == torch.float32


def test_bad_inputs():
    x = torch.linspace(-1, 1, 11)
    with pytest.raises(ValueError, match="sigma"):
        E.gibbs_density(x**2, x, 0.0)
    with pytest.raises(ValueError, match="sigma"):
        E.free_energy_1d(torch.ones(11), x**2, x, -1.0)
    with pytest.raises(ValueError, match="increasing"):
        E.gibbs_density(x**2, x.flip(0), 1.0)
    with pytest.raises(ValueError, match="last dimension"):
        E.entropy_1d(torch.ones(10), x)
    with pytest.raises(ValueError, match="non-negative"):
        E.entropy_1d(x, x)
    with pytest.raises(ValueError, match="NaN"):
        E.entropy_1d(torch.full((11,), float("nan")), x)
    with pytest.raises(ValueError, match="n=3 <= k=3"):
        E.knn_entropy(torch.randn(3, 2), k=3)
    with pytest.raises(ValueError, match="duplicate"):
        E.knn_entropy(torch.tensor([[0.0, 1.0], [0.0, 1.0], [2.0, 0.0]]))
    with pytest.raises(ValueError, match="duplicate"):
        E.knn_entropy(torch.tensor([0.0, 0.0, 1.0]))
    with pytest.raises(ValueError, match="NaN"):
        E.knn_entropy(torch.tensor([[0.0, float("nan")], [1.0, 2.0]]))
    with pytest.raises(ValueError, match="dimension"):
        E.knn_entropy(torch.randn(4, 2, 2))
    with pytest.raises(ValueError, match="same dimension"):
        E.w2(torch.randn(5, 2), torch.randn(5, 3))
    with pytest.raises(ValueError, match="subsample"):
        E.w2(torch.randn(6000, 2), torch.randn(5000, 2))
    with pytest.raises(ValueError, match="positive definite"):
        E.gaussian_entropy(torch.tensor([[1.0, 2.0], [2.0, 1.0]]))
    with pytest.raises(ValueError, match="variance"):
        E.gaussian_entropy(-1.0)
    with pytest.raises(ValueError, match="symmetric"):
        E.w2_gaussian(torch.zeros(2), torch.tensor([[1.0, 0.5], [0.0, 1.0]]), torch.zeros(2), torch.eye(2))
    with pytest.raises(ValueError, match="shapes disagree"):
        E.w2_gaussian(torch.zeros(3), torch.eye(2), torch.zeros(2), torch.eye(2))
    with pytest.raises(ValueError, match="semi-definite"):
        E.w2_gaussian(torch.zeros(2), torch.diag(torch.tensor([1.0, -1.0])), torch.zeros(2), torch.eye(2))
