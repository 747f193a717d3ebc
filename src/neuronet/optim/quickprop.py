"""Quickprop (Fahlman, 1988).

Fahlman, S. E. (1988). "An Empirical Study of Learning Speed in Back-Propagation
Networks", CMU-CS-88-162.  Each weight is treated as if the error were a
parabola in that weight alone: from the current slope ``s = dE/dw``, the
previous slope ``p`` and the previous step ``d``, the minimum of the parabola
through the two slopes is a step of ``d * s / (p - s)``.
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from .base import Optimizer, _positive


class Quickprop(Optimizer):
    """Fahlman's Quickprop, applied to every weight independently.

    Update rule, per weight (``s`` = current slope incl. decay, ``p`` = previous
    slope, ``d`` = previous step, ``mu`` = maximum growth factor)::

        if d == 0:  step = -lr * s                                  # gradient descent
        else:
            step = mu * d           if s*sign(d) <= mu/(1+mu) * p*sign(d)   # growth limit
                   d * s / (p - s)  otherwise                              # parabola's minimum
            step -= lr * s          if s*sign(d) < 0                         # slope still points along d
        w += step;  p = s;  d = step

    The growth limit caps the parabolic step at ``mu`` times the previous one
    (this is exactly where ``s / (p - s) >= mu``, or where the parabola opens
    downward).  The gradient term is added while the current slope still calls
    for a step in the same direction as the last one, and dropped once the
    minimum has been crossed (Fahlman 1988, section 4).

    Parameters
    ----------
    lr : float
        Fahlman's epsilon: the gradient-descent step size.
    mu : float, default 1.75
        Maximum growth factor.
    weight_decay : float, default 0
        Added to each weight's slope as ``weight_decay * w`` (Fahlman used 1e-4);
        unlike the other optimizers this includes biases, as in the paper.
    gradient_term : bool, default True
        Add ``-lr * s`` to quadratic steps as described above.

    Works on full-batch gradients (as in the paper) and on mini-batches, where
    the slopes are noisier.
    """

    name = "quickprop"
    state_names = ("prev_slope", "prev_step")
    scratch: ClassVar[dict] = {"step": None, "t": None, "cap": bool}

    def __init__(self, lr=0.1, mu=1.75, weight_decay=0.0, gradient_term=True):
        super().__init__(lr, weight_decay)
        self.mu = _positive("mu", mu)
        self.gradient_term = bool(gradient_term)
        self.prev_slope = self.prev_step = None

    def _decay(self, params, grads):
        if self.weight_decay:
            for p, g in zip(params, grads):
                g += self.weight_decay * p

    def _update(self, params, grads, state):
        shrink = self.mu / (1.0 + self.mu)
        for w, s, p, d, step, t, cap in zip(
            params, grads, state["prev_slope"], state["prev_step"], state["step"], state["t"], state["cap"]
        ):
            sign_d = np.sign(d)
            # cap: growth-limited step (mu * d) where s*sign(d) <= shrink * p*sign(d)
            np.multiply(s, sign_d, out=t)
            np.multiply(p, sign_d, out=step)
            step *= shrink
            np.less_equal(t, step, out=cap)
            # the gradient term applies where the slope still asks for a step along d
            grad_term = t < 0
            # parabolic step d * s / (p - s), where it is defined and not capped
            np.subtract(p, s, out=t)
            quad = ~cap & (t != 0)
            step.fill(0)
            np.divide(s, t, out=step, where=quad)
            step *= d
            cap |= (t == 0) & (d != 0)  # parabola undefined: take the capped step
            np.multiply(d, self.mu, out=t)
            np.copyto(step, t, where=cap)
            first = d == 0
            if self.gradient_term:
                grad_term |= first
            else:
                grad_term = first
            np.multiply(s, -self.lr, out=t)
            np.add(step, t, out=step, where=grad_term)
            w += step
            np.copyto(p, s)
            np.copyto(d, step)

    def config(self):
        return {**super().config(), "mu": self.mu, "gradient_term": self.gradient_term}
