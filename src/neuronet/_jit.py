"""The compiled element-wise kernels (numba).  Import ``neuronet.kernels``, not this module.

Every kernel here computes exactly what the NumPy code it replaces computes, in the
same order, one element at a time: the same float32 (or float64) operations on the
same operands, no fused multiply-add, no reassociation (``fastmath`` is off), sums
accumulated row after row, starting from +0, as ``ndarray.sum(axis=0)`` does.  So the results are
bit-identical to the NumPy path, which is what lets ``neuronet.kernels`` switch from
NumPy to these kernels in the middle of a fit (``tests/test_kernels.py`` checks the
equality, NaN, infinity and signed zeros included).  What they save is memory traffic
and calls: a momentum step reads and writes the flat buffers once instead of four times.

Scalars arrive already cast to the arrays' dtype (NumPy casts a Python float to the
array's dtype before it multiplies, so the kernels must see the same rounded value).
Compiled on first use and cached on disk (``cache=True``); ``nogil`` so that a
training thread never holds the interpreter while it runs one.
"""

from __future__ import annotations

import numba
import numpy as np

_jit = numba.njit(cache=True, nogil=True, error_model="numpy", fastmath=False)


# -- optimizers: one pass over the flat buffers ----------------------------------------------
@_jit
def sgd(p, g, lr):
    """``g *= lr; p -= g`` (``g`` is not written)."""
    for i in range(p.shape[0]):
        p[i] -= g[i] * lr


@_jit
def momentum(p, g, v, lr, mu):
    """``g *= lr; v *= mu; v -= g; p += v``."""
    for i in range(p.shape[0]):
        vi = v[i] * mu - g[i] * lr
        v[i] = vi
        p[i] += vi


@_jit
def nesterov(p, g, v, lr, mu):
    """``g *= lr; v *= mu; v -= g; p -= g; p += mu * v``."""
    for i in range(p.shape[0]):
        gi = g[i] * lr
        vi = v[i] * mu - gi
        v[i] = vi
        p[i] = (p[i] - gi) + vi * mu


@_jit
def adam(p, g, m, v, b1, one_minus_b1, b2, one_minus_b2, eps, step):
    """Adam's moment updates and step in one pass, in ``optim.Adam._update``'s order."""
    for i in range(p.shape[0]):
        gi = g[i]
        mi = m[i] * b1 + gi * one_minus_b1
        vi = v[i] * b2 + (gi * gi) * one_minus_b2
        m[i] = mi
        v[i] = vi
        p[i] -= (mi / (np.sqrt(vi) + eps)) * step


@_jit
def add_scaled(g, p, c):
    """``g += p * c`` (the L2 penalty's gradient: ``tmp = p * c; g += tmp``)."""
    for i in range(g.shape[0]):
        g[i] += p[i] * c


# -- layers: bias + unit forward, unit derivative + bias gradient backward --------------------
@_jit
def bias_relu(a, b, zero):
    """``a += b; np.maximum(a, 0, out=a)`` (NaN stays NaN, -0 becomes +0, as in NumPy)."""
    n, k = a.shape
    for i in range(n):
        for j in range(k):
            x = a[i, j] + b[j]
            a[i, j] = x if (x > zero or np.isnan(x)) else zero


@_jit
def back_relu(z, d, db, zero, one):
    """``d *= (z > 0); db[:] = d.sum(axis=0)``."""
    n, k = d.shape
    for i in range(n):
        for j in range(k):
            d[i, j] = d[i, j] * (one if z[i, j] > zero else zero)
    _col_sum(d, db)


@_jit
def back_sigmoid(z, d, db, one, offset):
    """``d *= z (1 - z) + offset; db[:] = d.sum(axis=0)`` (``Sigmoid.backward`` with a prime offset)."""
    n, k = d.shape
    for i in range(n):
        for j in range(k):
            zz = z[i, j]
            d[i, j] = d[i, j] * ((one - zz) * zz + offset)
    _col_sum(d, db)


@_jit
def back_sigmoid_plain(z, d, db, one):
    """``d *= z (1 - z); db[:] = d.sum(axis=0)`` (``Sigmoid.backward``, no prime offset).

    Not ``back_sigmoid`` with an offset of 0: adding +0 turns a -0 product into +0, and NumPy adds
    nothing when there is no offset."""
    n, k = d.shape
    for i in range(n):
        for j in range(k):
            zz = z[i, j]
            d[i, j] = d[i, j] * ((one - zz) * zz)
    _col_sum(d, db)


@_jit
def back_tanh(z, d, db, one):
    """``d *= 1 - z * z; db[:] = d.sum(axis=0)`` (``Tanh.backward``)."""
    n, k = d.shape
    for i in range(n):
        for j in range(k):
            zz = z[i, j]
            d[i, j] = d[i, j] * (one - zz * zz)
    _col_sum(d, db)


@_jit
def _col_sum(d, db):
    # NumPy's order: start from +0 (so a column of -0.0 sums to +0.0), add the rows in turn
    n, k = d.shape
    for j in range(k):
        db[j] = 0
    for i in range(n):
        for j in range(k):
            db[j] += d[i, j]
