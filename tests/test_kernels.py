"""The compiled kernels give the NumPy path's bits, and neuronet works with them, without them, and in between."""

import os
import subprocess
import sys

import numpy as np
import pytest
from threadpoolctl import threadpool_limits

from neuronet import Trainer, kernels, mlp
from neuronet.units import ReLU, Sigmoid, Tanh

pytest.importorskip("numba")  # a normal dependency; CI has it (the fallback is tested below without it)
pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning")  # NaN and inf on purpose, on the NumPy side
DTYPES = (np.float32, np.float64)


@pytest.fixture(scope="module")
def k():
    kernels.enable()
    K = kernels.warm_up(wait=True)
    assert K is not None, kernels.status()
    return K


def nasty(rng, shape, dtype, finite=False):
    """Values over many magnitudes, with NaN, +-inf (unless ``finite``) and both zeros sprinkled in."""
    x = rng.standard_normal(shape) * 10.0 ** rng.integers(-6, 6, shape)
    flat = x.reshape(-1)
    picks = rng.choice(flat.size, size=min(flat.size, 12), replace=False)
    flat[picks] = [np.nan, np.inf, -np.inf, 0.0, -0.0, 1e-40, -1e-40, 0.0, -0.0, 3.0, -3.0, np.nan][: picks.size]
    if finite:
        x = np.nan_to_num(x, nan=1.5, posinf=2.5e3, neginf=-3.5e3)
    return x.astype(dtype)


def same_bits(a, b):
    a, b = np.asarray(a), np.asarray(b)
    assert a.dtype == b.dtype and a.shape == b.shape
    ints = np.int32 if a.dtype == np.float32 else np.int64
    nan = np.isnan(a) & np.isnan(b)  # NaN payloads may differ; that a value is NaN may not
    return bool(np.array_equal(a.view(ints)[~nan], b.view(ints)[~nan]) and np.array_equal(np.isnan(a), np.isnan(b)))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(128, 512), (1, 7), (33, 2), (5, 10), (200, 3), (4096, 100), (9, 1000)])
@pytest.mark.parametrize("finite", [True, False])
def test_layer_kernels_give_numpys_bits(k, rng, dtype, shape, finite):
    """``finite``: ordinary numbers only, so the column sums are real sums (a NaN would hide their order)."""
    _layer_kernels(k, rng, dtype, shape, finite)


def _layer_kernels(k, rng, dtype, shape, finite):
    b = nasty(rng, shape[1], dtype, finite)
    a0 = nasty(rng, shape, dtype, finite)
    ref = a0.copy()
    ref += b
    np.maximum(ref, 0, out=ref)
    got = a0.copy()
    k.bias_relu(got, b, dtype(0))
    assert same_bits(got, ref)

    z = nasty(rng, shape, dtype, finite)
    zs = np.abs(np.tanh(z)).astype(dtype)  # outputs in [0, 1] as from a sigmoid, NaN kept
    d0 = nasty(rng, shape, dtype, finite)
    one = dtype(1)
    cases = [
        (ReLU(), z, lambda d, db: k.back_relu(z, d, db, dtype(0), one)),
        (Sigmoid(), zs, lambda d, db: k.back_sigmoid_plain(zs, d, db, one)),
        (Sigmoid(prime_offset=0.1), zs, lambda d, db: k.back_sigmoid(zs, d, db, one, dtype(0.1))),
        (Tanh(), z, lambda d, db: k.back_tanh(z, d, db, one)),
    ]
    for unit, zz, kernel in cases:
        d_ref = d0.copy()
        unit.backward(zz, d_ref, np.empty_like(d_ref))
        db_ref = np.sum(d_ref, axis=0)
        assert np.isfinite(db_ref).all() or not finite  # real sums, not NaN == NaN
        d, db = d0.copy(), np.full(shape[1], 7, dtype)
        kernel(d, db)
        assert same_bits(d, d_ref), unit
        assert same_bits(db, db_ref), unit


@pytest.mark.parametrize("rows", [1, 3])
def test_column_sums_start_from_plus_zero_like_numpy(k, rows):
    d = np.full((rows, 2), -0.0, np.float32)  # a column of -0.0 sums to +0.0 in NumPy
    db = np.full(2, -1.0, np.float32)
    k.back_relu(np.ones((rows, 2), np.float32), d, db, np.float32(0), np.float32(1))
    assert not np.signbit(db).any() and not np.signbit(np.sum(d, axis=0)).any() and (db == 0).all()


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", ["sgd", "momentum", "nesterov", "adam"])
def test_optimizer_kernels_give_numpys_bits(k, rng, dtype, name):
    from neuronet.optim import get_optimizer
    from neuronet.parameters import Parameters

    arrays = [("W", nasty(rng, (40, 30), dtype)), ("b", nasty(rng, 30, dtype))]
    runs = {}
    for compiled in (False, True):
        (kernels.enable if compiled else kernels.disable)()
        try:
            P = Parameters(arrays, dtype)
            opt = get_optimizer(name, lr=0.37)
            grads = np.random.default_rng(1)
            for _ in range(5):
                P.grad[...] = nasty(grads, P.size, dtype)
                opt.step(P)
            runs[compiled] = (P.data.copy(), *(b.copy() for b in (opt._flat_state or {}).values()))
        finally:
            kernels.enable()
    for a, b in zip(runs[False], runs[True], strict=True):
        assert same_bits(a, b)


def fit(hidden, optimizer, compiled, dtype=np.float32, switch_after=None, threads=1, epochs=3, prime_offset=0.0):
    X = np.random.default_rng(0).standard_normal((300, 20)).astype(dtype)
    y = (X[:, 0] + X[:, 1] ** 2 > 1).astype(int) + (X[:, 2] > 0.5)
    net = mlp(
        [20, 16, 12, 3], hidden=hidden, output="softmax", init="fan-in", seed=3, dtype=dtype, prime_offset=prime_offset
    )
    tr = Trainer(net, optimizer, lr=0.05, epochs=epochs, batch_size=32, diagnostics=False, seed=1)
    (kernels.enable if compiled else kernels.disable)()
    try:
        with threadpool_limits(threads, user_api="blas"):
            if switch_after is None:
                tr.fit(X, y)
            else:  # start on one path, finish on the other: what background loading does
                tr.epochs = switch_after
                tr.fit(X, y)
                (kernels.disable if compiled else kernels.enable)()
                tr.epochs = epochs
                tr.fit(X, y)
    finally:
        kernels.enable()
    return net.parameters.data.copy(), list(tr.history["loss"])


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("hidden", ["relu", "sigmoid", "tanh", "sigmoid+offset"])
@pytest.mark.parametrize("optimizer", ["sgd", "momentum", "nesterov", "adam"])
def test_training_is_bit_identical_with_and_without_kernels(k, hidden, optimizer, dtype):
    unit, _, offset = hidden.partition("+")
    kw = {"prime_offset": 0.1 if offset else 0.0}
    w_np, loss_np = fit(unit, optimizer, False, dtype, **kw)
    w_k, loss_k = fit(unit, optimizer, True, dtype, **kw)
    assert same_bits(w_np, w_k)
    assert loss_np == loss_k
    assert loss_np[-1] < loss_np[0]  # it trained


def test_switching_paths_in_the_middle_of_a_fit_changes_nothing(k):
    ref, _ = fit("relu", "momentum", False)
    for compiled in (False, True):
        w, _ = fit("relu", "momentum", compiled, switch_after=1)
        assert same_bits(w, ref)


def test_two_blas_threads_bit_identical_run_to_run_and_across_paths(k):
    a, _ = fit("relu", "adam", True, threads=2)
    b, _ = fit("relu", "adam", True, threads=2)
    c, _ = fit("relu", "adam", False, threads=2)
    assert same_bits(a, b) and same_bits(a, c)


def test_the_kernels_start_no_thread_pool(k):
    """Serial kernels only: numba's parallel thread pool is never launched, so a BLAS limit of 1 is 1 thread."""
    import numba.np.ufunc.parallel as par

    fit("relu", "adam", True)
    assert not par._is_initialized


def run_python(code, **env):
    full = {**os.environ, **env}
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=full, timeout=120)
    assert r.returncode == 0, r.stderr
    return r.stdout.strip().splitlines()


SMALL_FIT = """
import sys, numpy as np
{pre}
from neuronet import Trainer, kernels, mlp
X = np.random.default_rng(0).standard_normal((200, 5)).astype(np.float32); y = (X[:, 0] > 0).astype(int)
net = mlp([5, 8, 2], hidden="relu", output="softmax", seed=0)
Trainer(net, "momentum", lr=0.1, epochs=2, diagnostics=False).fit(X, y)
print(kernels.status()); print(kernels.active() is None); print(float(np.abs(net.parameters.data).sum()))
"""


def test_numpy_mode_never_loads_numba_and_gives_the_same_weights():
    off = run_python(SMALL_FIT.format(pre="") + "print('numba' in sys.modules)", NEURONET_KERNELS="numpy")
    on = run_python(SMALL_FIT.format(pre=""), NEURONET_KERNELS="wait")
    assert off[:2] == ["disabled (NEURONET_KERNELS=numpy)", "True"] and off[3] == "False"
    assert on[:2] == ["ready", "False"]
    assert off[2] == on[2]


def test_without_numba_training_runs_on_numpy_and_says_why():
    no_numba = "sys.modules['numba'] = None  # as if not installed"
    out = run_python(SMALL_FIT.format(pre=no_numba), NEURONET_KERNELS="wait")
    assert out[0].startswith("unavailable (ModuleNotFoundError: import of numba") and out[1] == "True"
    ref = run_python(SMALL_FIT.format(pre=""), NEURONET_KERNELS="numpy")
    assert out[2] == ref[2]


def test_import_does_not_load_numba():
    out = run_python("import sys, neuronet; print('numba' in sys.modules, neuronet.kernels.status())")
    assert out == ["False not loaded"]


def test_auto_mode_loads_them_only_for_a_fit_that_repays_the_cost():
    small = run_python(SMALL_FIT.format(pre="") + "print('numba' in sys.modules)", NEURONET_KERNELS="auto")
    assert small[0] == "not loaded" and small[3] == "False"
    big = run_python(
        "from neuronet import kernels\n"
        "assert kernels.warm_up(saving=kernels.MIN_SAVED / 2) is None and kernels.status() == 'not loaded'\n"
        "kernels.warm_up(saving=kernels.MIN_SAVED); print(kernels.status())\n"
        "kernels.warm_up(wait=True); print(kernels.status())",
        NEURONET_KERNELS="auto",
    )
    assert big == ["loading", "ready"]


def test_estimator_with_l2_is_bit_identical_with_and_without_kernels(k):
    """scikit-learn's defaults (adam, alpha=1e-4: the L2 gradient goes through ``add_scaled``)."""
    from neuronet import MLPClassifier

    X = np.random.default_rng(0).standard_normal((400, 12)).astype(np.float32)
    y = (X[:, 0] * X[:, 1] > 0).astype(int)
    coefs = {}
    for compiled in (False, True):
        (kernels.enable if compiled else kernels.disable)()
        try:
            est = MLPClassifier(hidden_layer_sizes=(9,), max_iter=15, random_state=0, alpha=0.3, dtype="float32")
            with pytest.warns(Warning):  # ConvergenceWarning: 15 epochs are not enough, on purpose
                est.fit(X, y)
            coefs[compiled] = ([c.copy() for c in est.coefs_], list(est.loss_curve_))
        finally:
            kernels.enable()
    for a, b in zip(coefs[False][0], coefs[True][0], strict=True):
        assert same_bits(a, b)
    assert coefs[False][1] == coefs[True][1]


def test_add_scaled_gives_numpys_bits(k, rng):
    for dtype in DTYPES:
        g0, p = nasty(rng, 1000, dtype), nasty(rng, 1000, dtype)
        ref = g0.copy()
        ref += p * dtype(0.37)
        got = g0.copy()
        k.add_scaled(got, p, dtype(0.37))
        assert same_bits(got, ref)


@pytest.mark.parametrize("hidden", ["relu", "tanh", "sigmoid"])
def test_a_one_unit_layer_is_bit_identical_too(k, hidden):
    """NumPy sums a single column pairwise; that layer keeps NumPy's sum."""
    runs = []
    for compiled in (False, True):
        (kernels.enable if compiled else kernels.disable)()
        try:
            X = np.random.default_rng(0).standard_normal((600, 6)).astype(np.float32)
            y = (X[:, 0] > X[:, 1]).astype(int)
            net = mlp([6, 8, 1, 2], hidden=hidden, output="softmax", seed=2)
            Trainer(net, "momentum", lr=0.1, epochs=3, batch_size=300, diagnostics=False).fit(X, y)
            runs.append(net.parameters.data.copy())
        finally:
            kernels.enable()
    assert same_bits(*runs)


def test_numpy_scalar_hyperparameters_round_like_floats_on_both_paths(k):
    """A NumPy float64 assigned to lr, momentum, betas or a prime offset must not change the bits."""
    from neuronet.optim import get_optimizer
    from neuronet.parameters import Parameters

    for name in ("sgd", "momentum", "nesterov", "adam"):
        runs = []
        for compiled in (False, True):
            (kernels.enable if compiled else kernels.disable)()
            try:
                P = Parameters([("W", np.ones((3, 4)))], np.float32)
                opt = get_optimizer(name, lr=0.1)
                for i in range(3):
                    opt.lr = 0.1 * np.exp(-0.3 * i)  # an np.float64, as a schedule written with NumPy gives
                    if hasattr(opt, "momentum"):
                        opt.momentum = np.float64(0.9)
                    P.grad[...] = np.linspace(-1, 1, P.size, dtype=np.float32) / 3
                    opt.step(P)
                runs.append(P.data.copy())
            finally:
                kernels.enable()
        assert same_bits(*runs), name
    z, d0 = np.full((4, 3), 0.3, np.float32), np.full((4, 3), 0.7, np.float32)
    unit = Sigmoid(prime_offset=0.1)
    unit.prime_offset = np.float64(0.1)
    d_ref = d0.copy()
    unit.backward(z, d_ref, np.empty_like(d_ref))
    d, db = d0.copy(), np.empty(3, np.float32)
    k.back_sigmoid(z, d, db, np.float32(1), np.float32(0.1))
    assert same_bits(d, d_ref)


def test_a_layer_outside_a_network_still_runs_backward(k):
    from neuronet.layers import Dense

    layer = Dense(3, 4, "relu", rng=np.random.default_rng(0))
    layer.forward(np.ones((5, 3), np.float32))
    layer.delta_buffer()[...] = 1.0
    layer.dW = np.empty((3, 4), np.float32)
    layer.backward()  # db is None: NumPy allocates it, as before the kernels
    assert np.isfinite(layer.dW).all()


def test_forking_while_the_kernels_load_does_not_hang_the_child():
    """``os.fork`` waits for a loading thread: the child gets numba whole, not half-imported."""
    out = run_python(
        "import os, signal\n"
        "from neuronet import kernels\n"
        "kernels.warm_up(saving=kernels.MIN_SAVED)\n"
        "pid = os.fork()\n"
        "if pid == 0:\n"
        "    signal.alarm(30)\n"
        "    import numba\n"
        "    os._exit(0 if kernels.status() == 'ready' else 3)\n"
        "_, st = os.waitpid(pid, 0)\n"
        "print(os.waitstatus_to_exitcode(st))",
        NEURONET_KERNELS="auto",
    )
    assert out == ["0"]


def test_expected_saving_loads_for_long_fits_of_large_networks_only():
    """The measured break-even (benchmarks/README.md, "When loading the kernels pays"): scikit-learn's
    relu (100,) with Adam and L2 on 60,000 images repays the load from about 10 epochs; a (10,) network
    never does; the 784-512-512-10 momentum network of bench_mlp.py not in one epoch."""

    def saving(epochs, params, passes, units, batch):
        return kernels.expected_saving(
            steps=-(-60_000 // batch) * epochs, params=params, optimizer_passes=passes, batch=batch, units=units
        )

    adam_l2 = 11 + 1
    assert saving(5, 79_510, adam_l2, 100, 200) < kernels.MIN_SAVED <= saving(20, 79_510, adam_l2, 100, 200)
    assert saving(200, 7_960, adam_l2, 10, 200) == 0.0, "below MIN_PARAMS nothing is saved"
    assert saving(1, 669_706, 3, 1024, 128) < kernels.MIN_SAVED <= saving(10, 669_706, 3, 1024, 128)


@pytest.mark.parametrize(
    ("optimizer", "l2", "passes"), [("sgd", 0.0, 1), ("momentum", 0.0, 3), ("nesterov", 1e-4, 7), ("adam", 1e-4, 12)]
)
def test_trainer_weighs_the_load_by_its_optimizer_and_the_epochs_left(monkeypatch, optimizer, l2, passes):
    from neuronet import Trainer, mlp

    seen = []
    monkeypatch.setattr(kernels, "warm_up", lambda saving=None, **kw: seen.append(saving))
    X = np.random.default_rng(0).standard_normal((1000, 150)).astype(np.float32)
    y = (X[:, 0] > 0).astype(int)
    net = mlp([150, 128, 20, 2], hidden="relu", seed=0)  # 21,950 parameters: above MIN_PARAMS
    tr = Trainer(net, optimizer, lr=0.01, epochs=3, batch_size=300, l2=l2, diagnostics=False)
    tr.fit(X, y)
    tr.epochs = 5
    tr.fit(X, y)  # two epochs left, after three: counted as three more
    tr.epochs = 12
    tr.fit(X, y)  # seven left, after five
    tr.fit(X, y)  # none left
    per_step = net.parameters.size * passes + 2 * 300 * (128 + 20)
    assert net.parameters.size == 21_950
    assert seen == [4 * 3 * per_step, 4 * 3 * per_step, 4 * 7 * per_step, 0]


def test_partial_fit_one_epoch_at_a_time_loads_the_kernels_once_the_run_is_long(monkeypatch):
    """Each ``partial_fit`` is a one-epoch fit; the run behind it grows, and so does what it would save."""
    from neuronet import MLPClassifier

    seen = []
    monkeypatch.setattr(kernels, "warm_up", lambda saving=None, **kw: seen.append(saving))
    X = np.random.default_rng(0).standard_normal((400, 150)).astype(np.float32)
    y = (X[:, 0] > 0).astype(int)
    est = MLPClassifier(hidden_layer_sizes=(160,), batch_size=200, random_state=0)  # 24,321 parameters
    for _ in range(4):
        est.partial_fit(X, y, classes=[0, 1])
    assert est.network_.parameters.size == 24_321
    per_epoch = 2 * (24_321 * 12 + 2 * 200 * 160)  # Adam + L2, two steps an epoch
    assert seen == [per_epoch, per_epoch, 2 * per_epoch, 3 * per_epoch]


def test_quickprop_saves_only_the_unit_passes(monkeypatch):
    from neuronet import Trainer, mlp

    seen = []
    monkeypatch.setattr(kernels, "warm_up", lambda saving=None, **kw: seen.append(saving))
    X = np.random.default_rng(0).standard_normal((600, 150)).astype(np.float32)
    net = mlp([150, 128, 20, 2], hidden="relu", seed=0)
    Trainer(net, "quickprop", lr=0.01, epochs=1, batch_size=None, diagnostics=False).fit(X, (X[:, 0] > 0).astype(int))
    assert seen == [2 * 600 * (128 + 20)]
