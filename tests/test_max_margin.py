"""gradflows.references.max_margin: the regularized logistic path and its angle to the max-margin
direction."""

import numpy as np
import pytest
import torch
from gradflows.references import max_margin as MM


def test_signed_angle_and_losses():
    assert MM.signed_angle(np.array([[1.0, 1.0]]), np.array([1.0, 0.0]))[0] == pytest.approx(np.pi / 4)
    with pytest.raises(ValueError):
        MM.signed_angle(np.ones((1, 3)), np.ones(3))
    Z = torch.tensor([[1.0, 0.5], [2.0, -1.0]])
    W = torch.tensor([[0.3, 0.1]], requires_grad=True)
    MM.mean_logistic(W, Z).sum().backward()
    torch.testing.assert_close(W.grad, MM.mean_logistic_grad(W.detach(), Z))


def test_logistic_path_tends_to_the_svm_direction():
    # symmetric support vectors z = (1, +-1): w* = (1, 0), alpha = (1/2, 1/2), and the path is along w*
    Z = np.array([[1.0, 1.0], [1.0, -1.0], [3.0, 0.5]])
    path, grad = MM.logistic_path(Z, [1e-2, 1e-4])
    assert path.shape == (2, 2) and max(grad) < 1e-6
    assert abs(MM.signed_angle(path, np.array([1.0, 0.0]))[-1]) < abs(
        MM.signed_angle(path, np.array([1.0, 0.0]))[0]
    )
    Z_S, alpha, w_svm = Z[:2], np.array([0.5, 0.5]), np.array([1.0, 0.0])
    assert abs(MM.reduced_angle(1e3, Z_S, alpha, w_svm)) < 1e-10  # symmetric: no angle
    assert MM.far_angle(path[-1], 1e-4, 5.0, Z[2:], Z_S, alpha, w_svm) >= 0
    with pytest.raises(ValueError):
        MM.logistic_path(Z, [0.0])
    with pytest.raises(ValueError):
        MM.reduced_angle(-1.0, Z_S, alpha, w_svm)
