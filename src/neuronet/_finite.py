"""``all_finite``: the NaN/infinity check at the data and network boundary, without a temporary the size of the data."""

from __future__ import annotations

import numpy as np

__all__ = ["all_finite"]


def all_finite(a: np.ndarray) -> bool:
    """Whether every element of the float array ``a`` is finite, without a temporary the size of ``a``.

    ``np.isfinite(a).all()`` first writes a boolean array as large as ``a`` (47 MB for
    Fashion-MNIST's training images).  A NaN or an infinity anywhere makes the sum of ``a``
    NaN or infinite, so a finite sum settles it in one read-only pass; a sum that is not finite
    (a bad value, or finite values that overflow) is checked again exactly, block by block.
    """
    a = np.asarray(a)
    if a.dtype.kind in "biu":
        return True  # booleans and integers are always finite
    if a.dtype.kind not in "fc" or not a.flags.c_contiguous:
        return bool(np.isfinite(a).all())  # other kinds: NumPy's own answer; blocks of a strided array would be copies
    with np.errstate(over="ignore", invalid="ignore"):
        if np.isfinite(np.add.reduce(a, axis=None)):  # NaN and infinities propagate through sums
            return True
    flat = a.reshape(-1)
    block = 1 << 16
    return all(bool(np.isfinite(flat[i : i + block]).all()) for i in range(0, flat.size, block))
