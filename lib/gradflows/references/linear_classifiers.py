"""Linear classifiers computed by NumPy and SciPy: ridge regression on the labels, a linear-programming
certificate of (non-)separability and the hard-margin support vector machine with its dual weights.

References for notebooks/02-turnpike/01 (why a linear classifier is not enough) and
notebooks/02-turnpike/02 (claim TURN-8, the max-margin limit of the regularized logistic loss).
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import linprog, minimize

from .._validation import check_positive

__all__ = ["ridge_classifier", "linearly_separable", "hard_margin_svm"]


def _data(X, Y=None) -> tuple[np.ndarray, np.ndarray | None]:
    X = np.asarray(X, dtype=float)
    if X.ndim != 2 or not np.isfinite(X).all():
        raise ValueError(f"x must be a finite array of shape (N, d), got shape {X.shape}")
    if Y is not None:
        Y = np.asarray(Y, dtype=float)
        if Y.shape != (X.shape[0],) or not np.isin(Y, (-1.0, 1.0)).all():
            raise ValueError(f"y must hold N = {X.shape[0]} labels +-1, got shape {Y.shape}")
    return X, Y


def ridge_classifier(x, y, lam: float = 1e-3) -> np.ndarray:
    """``argmin_w sum_i (w^T x_i - y_i)^2 + lam |w|^2``, from the normal equations (no bias)."""
    X, Y = _data(x, y)
    lam = check_positive("lam", lam)
    return np.linalg.solve(X.T @ X + lam * np.eye(X.shape[1]), X.T @ Y)


def linearly_separable(x, y) -> bool:
    """Whether ``y_i (w^T x_i + c) >= 1`` has a solution ``(w, c)``: feasibility of a linear program
    with zero objective (HiGHS status 0: a separating hyperplane exists; 2: infeasible)."""
    X, Y = _data(x, y)
    A = -Y[:, None] * np.c_[X, np.ones(len(X))]
    res = linprog(
        np.zeros(X.shape[1] + 1), A_ub=A, b_ub=-np.ones(len(X)), bounds=[(None, None)] * (X.shape[1] + 1)
    )
    return res.status == 0


def hard_margin_svm(Z) -> dict:
    """The hard-margin SVM through the origin for the points ``z_i = y_i x_i`` (rows of ``Z``):
    ``min |w|^2`` subject to ``z_i . w >= 1``, by SLSQP from ``w = e_1``.

    Returns a dict with ``w`` (the SVM direction ``w*``), ``margins`` (``z_i . w*``), ``support``
    (indices with margin below ``1 + 1e-8``), ``alpha`` (dual weights, ``w* = sum alpha_i z_i`` over
    the support, by least squares), ``kkt`` (the residual of that equation) and ``message``.
    """
    Z, _ = _data(Z)
    start = np.zeros(Z.shape[1])
    start[0] = 1.0
    svm = minimize(
        lambda w: w @ w,
        start,
        jac=lambda w: 2 * w,
        method="SLSQP",
        constraints=[dict(type="ineq", fun=lambda w: Z @ w - 1, jac=lambda w: Z)],
        options=dict(ftol=1e-12, maxiter=200),
    )
    w = svm.x
    margins = Z @ w
    S = np.flatnonzero(margins < 1 + 1e-8)
    alpha = np.linalg.lstsq(Z[S].T, w, rcond=None)[0]
    return dict(
        w=w,
        margins=margins,
        support=S,
        alpha=alpha,
        kkt=np.linalg.norm(Z[S].T @ alpha - w),
        message=svm.message,
    )
