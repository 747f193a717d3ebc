"""The network: ordered layers, hand-derived forward and backward passes.

Forward, for layer l with input ``h`` (the previous layer's output, or the batch)::

    a = h @ W + b              # (B, n_out)
    z = f(a)                   # written over a: backward only needs z

Backward, starting from the output delta ``d = dL/da`` of the last layer::

    dL/dW = h.T @ d            # (n_in, n_out)
    dL/db = d.sum(axis=0)      # (n_out,)
    dL/dh = d @ W.T            # (B, n_in), skipped for the first layer
    d_prev = dL/dh * f'(h)     # f' from the cached output h

The loss is a mean over the batch, so the output delta is divided by ``B`` once
and every gradient below it is a mean too.  All activations, deltas and scratch
arrays live in buffers allocated once per batch size and reused.
"""

from __future__ import annotations

import itertools

import numpy as np

from .errors import ConfigError
from .layers import Dense
from .losses import check_pairing, get_loss, is_fused


class _Buffers:
    """Preallocated arrays for one batch size."""

    def __init__(self, layers, B, dtype):
        self.z = []  # each layer's output as the next layer sees it (after dropout/mask)
        self.zsrc = []  # the array f' is computed from (pre-dropout output when dropout is on)
        self.drop = []  # dropout masks (scaled), or None
        self.delta = [np.empty((B, L.n_out), dtype) for L in layers]
        self.work = [np.empty((B, L.n_out), dtype) for L in layers]
        for i, L in enumerate(layers):
            last = i == len(layers) - 1
            z = np.empty((B, L.n_out), dtype)
            self.z.append(z)
            if L.dropout and not last:
                self.zsrc.append(np.empty((B, L.n_out), dtype))
                self.drop.append(np.empty((B, L.n_out), dtype))
            else:
                self.zsrc.append(z)
                self.drop.append(None)
        self.a_out = np.empty((B, layers[-1].n_out), dtype)  # output logits, kept for the loss


class Network:
    """A feed-forward network of ``Dense`` layers and a loss.

    Parameters
    ----------
    layers : list of Dense
        ``layers[i].n_out`` must equal ``layers[i + 1].n_in``; all of one dtype.
    loss : str or Loss
        Paired with the last layer's unit.  For the pairs in ``losses.FUSED``
        the output delta is ``z - y``; otherwise the loss's ``dL/dz`` is pushed
        through the output unit's derivative.

    Attributes
    ----------
    params : list of ndarray
        ``[W0, b0, W1, b1, ...]``, the arrays the optimizer updates in place.
    grads : list of ndarray
        Aligned with ``params``; filled by ``backward``.
    """

    def __init__(self, layers, loss="squared-error"):
        layers = list(layers)
        if not layers:
            raise ConfigError("a network needs at least one layer")
        for prev, nxt in itertools.pairwise(layers):
            if prev.n_out != nxt.n_in:
                raise ConfigError(f"layer sizes do not chain: {prev.n_out} outputs feed {nxt.n_in} inputs")
        dtypes = {L.dtype for L in layers}
        if len(dtypes) != 1:
            raise ConfigError(f"all layers must share one dtype, got {sorted(map(str, dtypes))}")
        self.layers = layers
        self.dtype = layers[0].dtype
        self.loss = get_loss(loss)
        check_pairing(self.output_unit, self.loss)
        # Every parameter is a view into one contiguous buffer, in the order W0, b0, W1, b1, ...
        # (and so is every gradient): optimizers then update all of them with one array
        # operation per step instead of one per parameter.  A layer belongs to one network.
        total = sum(p.size for L in layers for p in L.params)
        self.flat_params = np.empty(total, self.dtype)
        self.flat_grads = np.zeros(total, self.dtype)
        self.params, self.grads, off = [], [], 0
        for L in layers:
            W, b = (self.flat_params[o : o + a.size].reshape(a.shape) for o, a in ((off, L.W), (off + L.W.size, L.b)))
            np.copyto(W, L.W)
            np.copyto(b, L.b)
            L.W, L.b = W, b
            for p in (W, b):
                self.params.append(p)
                self.grads.append(self.flat_grads[off : off + p.size].reshape(p.shape))
                off += p.size
        self._buffers: dict[int, _Buffers] = {}
        self._batch = None  # (input, buffers) of the last forward pass

    # -- structure -------------------------------------------------------------------------
    @property
    def n_inputs(self) -> int:
        return self.layers[0].n_in

    @property
    def n_outputs(self) -> int:
        return self.layers[-1].n_out

    @property
    def output_unit(self):
        return self.layers[-1].unit

    @property
    def fused(self) -> bool:
        """True when the output delta is ``z - y`` (see ``losses.FUSED``)."""
        return is_fused(self.output_unit, self.loss)

    def config(self) -> dict:
        """Architecture as JSON-ready data; ``Network.from_config`` rebuilds it (weights aside)."""
        return {"layers": [L.config() for L in self.layers], "loss": self.loss.config(), "dtype": self.dtype.name}

    @classmethod
    def from_config(cls, config, rng=None):
        dtype = config.get("dtype", "float32")
        layers = []
        for spec in config["layers"]:
            if spec.get("type") != "dense":
                raise ConfigError(f"unknown layer type {spec.get('type')!r}; valid: dense")
            layers.append(
                Dense(spec["n_in"], spec["n_out"], spec["unit"], dropout=spec.get("dropout", 0.0), rng=rng, dtype=dtype)
            )
        return cls(layers, config["loss"])

    def get_weights(self):
        """Copies of ``params``."""
        return [p.copy() for p in self.params]

    def set_weights(self, weights):
        """Copy ``weights`` (aligned with ``params``) into the network in place."""
        weights = list(weights)
        if len(weights) != len(self.params):
            raise ConfigError(f"expected {len(self.params)} arrays, got {len(weights)}")
        for i, (p, w) in enumerate(zip(self.params, weights)):
            w = np.asarray(w)
            if w.shape != p.shape:
                raise ConfigError(f"weight array {i}: expected shape {p.shape}, got {w.shape}")
            np.copyto(p, w, casting="same_kind")

    def __repr__(self):
        inner = ",\n  ".join(map(repr, self.layers))
        return f"Network([\n  {inner}\n], loss={self.loss!r})"

    def __getstate__(self):
        # scratch buffers are rebuilt on demand; they need not travel (e.g. to joblib workers)
        state = self.__dict__.copy()
        state["_buffers"] = {}
        state["_batch"] = None
        return state

    # -- buffers ---------------------------------------------------------------------------
    def _buffers_for(self, B):
        buf = self._buffers.get(B)
        if buf is None:
            if len(self._buffers) >= 4:  # train batch, last batch, probe, predict
                self._buffers.pop(next(iter(self._buffers)))
            buf = self._buffers[B] = _Buffers(self.layers, B, self.dtype)
        return buf

    # -- validation at the boundary --------------------------------------------------------
    def check_input(self, X, name="X"):
        """Return ``X`` as a C-contiguous 2-D array of the network's dtype, or raise ``ValueError``."""
        X = np.asarray(X)
        if X.ndim != 2:
            raise ConfigError(f"{name}: expected a 2-D array (samples, features), got {X.ndim}-D")
        if X.shape[1] != self.n_inputs:
            raise ConfigError(f"{name}: has {X.shape[1]} features, but the network expects {self.n_inputs}")
        if X.shape[0] == 0:
            raise ConfigError(f"{name}: has no samples")
        if not np.issubdtype(X.dtype, np.number) or np.issubdtype(X.dtype, np.complexfloating):
            raise ConfigError(f"{name}: expected real numbers, got dtype {X.dtype}")
        X = np.ascontiguousarray(X, dtype=self.dtype)
        if not np.isfinite(X).all():
            r, c = np.argwhere(~np.isfinite(X))[0]
            raise ConfigError(f"{name}: contains NaN or infinity (first at row {r}, column {c})")
        return X

    def check_targets(self, Y, n_samples, name="y"):
        """Return target matrix ``Y`` (B, n_outputs) in the network's dtype, or raise ``ValueError``."""
        Y = np.asarray(Y)
        if Y.ndim == 1 and self.n_outputs == 1:
            Y = Y[:, None]
        if Y.ndim != 2 or Y.shape != (n_samples, self.n_outputs):
            raise ConfigError(f"{name}: expected targets of shape ({n_samples}, {self.n_outputs}), got {Y.shape}")
        Y = np.ascontiguousarray(Y, dtype=self.dtype)
        if not np.isfinite(Y).all():
            raise ConfigError(f"{name}: contains NaN or infinity")
        return Y

    # -- forward and backward (trusted inputs: C-contiguous arrays of the network's dtype) --
    def _forward(self, X, train=False, rng=None):
        """Forward pass into the buffers; returns the output buffer (overwritten by the next call)."""
        buf = self._buffers_for(X.shape[0])
        h = X
        last = len(self.layers) - 1
        for i, L in enumerate(self.layers):
            a = buf.a_out if i == last else buf.zsrc[i]
            np.matmul(h, L.W, out=a)  # (B, n_out)
            a += L.b
            if i == last:
                L.unit.forward(a, buf.z[i])
            else:
                L.unit.forward(a, a)  # z over a, in place
                if buf.drop[i] is not None:
                    if train:
                        m = buf.drop[i]
                        rng.random(dtype=self.dtype, out=m)
                        np.greater_equal(m, L.dropout, out=m)  # keep with probability 1 - p
                        m *= 1.0 / (1.0 - L.dropout)
                        np.multiply(a, m, out=buf.z[i])
                    else:
                        np.copyto(buf.z[i], a)
            if L.unit_mask is not None:
                buf.z[i] *= L.unit_mask
                if buf.zsrc[i] is not buf.z[i]:
                    buf.zsrc[i] *= L.unit_mask
            h = buf.z[i]
        self._batch = (X, buf, train)
        return buf.z[last]

    def _loss(self, Y, sw=None):
        """Mean (or ``sw``-weighted mean) loss of the last forward pass against targets ``Y``."""
        _, buf, _ = self._batch
        if self.fused and self.loss.name != "squared-error":
            return self.loss.value_from_logits(buf.a_out, Y, sw)
        return self.loss.value(buf.z[-1], Y, sw)

    def _backward(self, Y, sw=None):
        """Gradients of the mean loss of the last forward pass into ``self.grads``.

        With sample weights ``sw`` (B,) the loss is ``sum_i sw_i L_i / sum_i sw_i``,
        so each row of the output delta is scaled by ``sw_i / sum(sw)`` instead of ``1/B``.
        """
        X, buf, train = self._batch
        B = X.shape[0]
        n = len(self.layers)
        out_unit = self.output_unit
        d = buf.delta[-1]
        if self.fused:
            np.subtract(buf.z[-1], Y, out=d)  # z - y (losses.FUSED)
        else:
            self.loss.delta(buf.z[-1], Y, d)  # dL/dz
            out_unit.backward(buf.z[-1], d, buf.work[-1])  # dL/da = dL/dz * f'
        if sw is None:
            d *= 1.0 / B  # mean over the batch
        else:
            d *= (sw / sw.sum()).astype(self.dtype, copy=False)[:, None]  # weighted mean
        for i in range(n - 1, -1, -1):
            L = self.layers[i]
            if L.unit_mask is not None:
                d *= L.unit_mask  # a silenced unit learns nothing
            h = X if i == 0 else buf.z[i - 1]
            np.matmul(h.T, d, out=self.grads[2 * i])  # dL/dW (n_in, n_out)
            np.sum(d, axis=0, out=self.grads[2 * i + 1])  # dL/db (n_out,)
            if i == 0:
                break  # no gradient w.r.t. the data
            g = buf.delta[i - 1]
            np.matmul(d, L.W.T, out=g)  # dL/dh (B, n_in)
            if train and buf.drop[i - 1] is not None:
                g *= buf.drop[i - 1]  # through the dropout mask
            self.layers[i - 1].unit.backward(buf.zsrc[i - 1], g, buf.work[i - 1])
            d = g
        return self.grads

    # -- public, validating entry points ---------------------------------------------------
    def forward(self, X, *, train=False, rng=None):
        """Network output for ``X`` (a new array of the network's dtype)."""
        X = self.check_input(X)
        if train and rng is None and any(L.dropout for L in self.layers):
            raise ConfigError("forward(train=True) with dropout needs a numpy Generator as rng")
        return self._forward(X, train, rng).copy()

    def predict(self, X, chunk_size=4096):
        """Output for ``X``, computed in chunks so that buffers stay small."""
        X = self.check_input(X)
        out = np.empty((X.shape[0], self.n_outputs), self.dtype)
        for s in range(0, X.shape[0], chunk_size):
            out[s : s + chunk_size] = self._forward(X[s : s + chunk_size])
        return out

    def loss_and_gradients(self, X, Y, *, sample_weight=None, train=False, rng=None):
        """Mean (or weighted mean) loss on ``(X, Y)``; fills ``self.grads`` with its gradient."""
        X = self.check_input(X)
        Y = self.check_targets(Y, X.shape[0])
        sw = None if sample_weight is None else np.asarray(sample_weight, dtype=np.float64)
        self._forward(X, train, rng)
        loss = self._loss(Y, sw)
        self._backward(Y, sw)
        return loss

    def activations(self, X):
        """Each layer's output for ``X`` (prediction mode), as a list of new arrays."""
        X = self.check_input(X)
        self._forward(X)
        return [z.copy() for z in self._batch[1].z]


def mlp(
    sizes,
    *,
    hidden="sigmoid",
    output="softmax",
    loss=None,
    init="fan-in",
    prime_offset=0.0,
    prime_offset_on="all",
    dropout=0.0,
    dale=None,
    dale_inputs=False,
    dtype=np.float32,
    seed=None,
    rng=None,
) -> Network:
    """Build a multilayer perceptron.

    Parameters
    ----------
    sizes : sequence of int
        ``[n_inputs, hidden_1, ..., n_outputs]``.
    hidden, output : str or Unit
        Hidden and output units.
    loss : str, optional
        Defaults to the output unit's fused partner (softmax -> cross-entropy,
        sigmoid -> logistic) and to squared error otherwise.
    init : str or Initializer
        ``"fan-in"`` (remedy 1) by default; ``"normal:1"`` is the notes' baseline.
    prime_offset : float
        Remedy (3): add this to ``S'`` of sigmoid units during backprop.
    prime_offset_on : {"all", "hidden", "output"}
        Which sigmoid layers get the offset.
    dropout : float or sequence of float
        Dropout probability for each hidden layer.
    dale : float in (0, 1], optional
        Dale's principle: this fraction of each population of hidden units is
        excitatory, the rest inhibitory (chosen at random from ``rng``), and their
        outgoing weights keep their sign during training (``Dense.dale_signs``).
    dale_inputs : bool
        Also constrain the weights out of the input units (default: only neurons
        of the network, i.e. hidden units, obey Dale's principle).
    seed, rng
        Seed or Generator for the initial weights (one of them).

    Examples
    --------
    >>> net = mlp([64, 32, 10], hidden="relu", output="softmax", seed=0)
    >>> net.loss.name
    'cross-entropy'
    """
    sizes = [int(s) for s in sizes]
    if len(sizes) < 2:
        raise ConfigError(f"sizes needs at least input and output sizes, got {sizes}")
    if prime_offset_on not in ("all", "hidden", "output"):
        raise ConfigError(f"prime_offset_on must be 'all', 'hidden' or 'output', got {prime_offset_on!r}")
    if rng is None:
        rng = np.random.default_rng(seed)
    n_hidden = len(sizes) - 2
    drops = [float(dropout)] * n_hidden if np.ndim(dropout) == 0 else [float(p) for p in dropout]
    if len(drops) != n_hidden:
        raise ConfigError(f"dropout: expected {n_hidden} values (one per hidden layer), got {len(drops)}")

    def unit_for(spec, where):
        from .units import get_unit

        u = get_unit(spec)
        if u.name == "sigmoid" and prime_offset and prime_offset_on in ("all", where):
            u = get_unit("sigmoid", prime_offset=prime_offset)
        return u

    if dale is not None and not 0.0 < float(dale) <= 1.0:
        raise ConfigError(f"dale: the excitatory fraction must lie in (0, 1], got {dale}")
    layers = []
    for i, (n_in, n_out) in enumerate(itertools.pairwise(sizes)):
        last = i == len(sizes) - 2
        unit = unit_for(output, "output") if last else unit_for(hidden, "hidden")
        layer = Dense(n_in, n_out, unit, init, dropout=0.0 if last else drops[i], rng=rng, dtype=dtype)
        if dale is not None and (i > 0 or dale_inputs):
            signs = np.where(rng.permutation(n_in) < round(float(dale) * n_in), 1, -1)
            layer.set_dale_signs(signs)
        layers.append(layer)
    if loss is None:
        loss = {"softmax": "cross-entropy", "sigmoid": "logistic"}.get(layers[-1].unit.name, "squared-error")
    return Network(layers, loss)
