"""``neuronet.data.load``: digits, IDX folders, named sets, options, real Fashion-MNIST."""

import dataclasses
import os
from pathlib import Path

import numpy as np
import pytest

from neuronet import data
from neuronet.data import Dataset, load, read_idx, write_idx
from neuronet.errors import DataError

VALID = "digits, fashion-mnist, mnist, idx:DIR, FILE.csv, FILE.npz, xor, encoder:N-M-N, spirals, circles"

# --- digits ------------------------------------------------------------------------------


def test_digits_values_classes_and_size():
    ds = load("digits")
    assert ds.n_train + ds.n_test == 1797
    assert ds.n_test == 359, "round(0.2 * 1797)"
    assert ds.n_features == 64 and ds.n_classes == 10 and ds.classes == tuple(range(10))
    X = np.vstack([ds.X_train, ds.X_test])
    assert X.min() == 0.0 and X.max() == 1.0, "pixels 0..16 scaled by 1/16"
    assert set(np.unique(X * 16).tolist()) <= set(range(17)), "scaling is exactly /16"
    assert ds.X_train.dtype == np.float32 and ds.X_train.flags.c_contiguous
    assert ds.y_train.dtype == np.int64 and set(ds.y_test.tolist()) == set(range(10))


def test_digits_split_is_deterministic_for_a_seed_and_differs_for_another():
    a, b, c = load("digits", seed=0), load("digits", seed=0), load("digits", seed=1)
    np.testing.assert_array_equal(a.X_test, b.X_test)
    np.testing.assert_array_equal(a.y_train, b.y_train)
    assert a.X_test.shape == c.X_test.shape
    assert not np.array_equal(a.X_test, c.X_test), "seed 1 must hold out other images than seed 0"


def test_digits_split_is_stratified_and_honours_test_fraction():
    ds = load("digits", test_fraction=0.5)
    counts_test = np.bincount(ds.y_test, minlength=10)
    counts_train = np.bincount(ds.y_train, minlength=10)
    assert np.all(np.abs(counts_test - counts_train) <= 1), "each digit is split in half"


def test_float64_on_request():
    ds = load("digits", dtype=np.float64)
    assert ds.X_train.dtype == ds.X_test.dtype == np.float64


# --- bad specs and options ------------------------------------------------------------------


def test_unknown_spec_lists_valid_names():
    with pytest.raises(DataError) as info:
        load("foo")
    assert str(info.value) == f"--data 'foo': unknown dataset; valid: {VALID}"


def test_a_bare_folder_gets_an_idx_hint(tmp_path):
    with pytest.raises(
        DataError, match=rf"unknown dataset; valid: .*; for a folder of IDX files write idx:{tmp_path}$"
    ):
        load(str(tmp_path))


@pytest.mark.parametrize(
    "kwargs, problem",
    [
        ({"test_fraction": 0.0}, "test_fraction: must be between 0 and 1 (exclusive), got 0.0"),
        ({"test_fraction": "half"}, "test_fraction: must be a number between 0 and 1, got 'half'"),
        ({"seed": -1}, "seed: must be a non-negative integer, got -1"),
        ({"max_train": 0}, "max_train: must be a positive integer or None, got 0"),
        ({"max_test": 2.5}, "max_test: must be a positive integer or None, got 2.5"),
        ({"dtype": np.int32}, "dtype: must be a floating-point type such as float32 or float64, got int32"),
        ({"label_column": 0}, "label_column: applies to CSV files only, not to --data 'digits'"),
        ({"task": "regression"}, "task: applies to CSV and NPZ files only, not to --data 'digits'"),
    ],
)
def test_bad_options_are_named(kwargs, problem):
    with pytest.raises(DataError) as info:
        load("digits", **kwargs)
    assert str(info.value) == problem


def test_max_train_and_max_test_subsample_seeded():
    full = load("digits", seed=2)
    small = load("digits", seed=2, max_train=100, max_test=50)
    again = load("digits", seed=2, max_train=100, max_test=50)
    assert (small.n_train, small.n_test) == (100, 50)
    np.testing.assert_array_equal(small.X_train, again.X_train)
    # the subsample is drawn from the same split: every kept row is a row of the full training set
    full_rows = {row.tobytes() for row in full.X_train}
    assert all(row.tobytes() in full_rows for row in small.X_train)
    assert small.n_classes == 10, "class numbering does not depend on what the subsample kept"
    assert load("digits", max_train=10**6).n_train == full.n_train


# --- IDX folders -----------------------------------------------------------------------------


def _idx_folder(folder, n_train=30, n_test=12, gz=True, seed=0):
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    suffix = ".gz" if gz else ""
    arrays = {
        "train-images-idx3-ubyte": rng.integers(0, 256, (n_train, 4, 3), dtype=np.uint8),
        "train-labels-idx1-ubyte": (np.arange(n_train) % 3 + 1).astype(np.uint8),  # labels 1, 2, 3
        "t10k-images-idx3-ubyte": rng.integers(0, 256, (n_test, 4, 3), dtype=np.uint8),
        "t10k-labels-idx1-ubyte": (np.arange(n_test) % 3 + 1).astype(np.uint8),
    }
    for stem, array in arrays.items():
        write_idx(folder / f"{stem}{suffix}", array)
    return arrays


@pytest.mark.parametrize("gz", [True, False], ids=["gz", "plain"])
def test_idx_folder_keeps_its_own_split_and_scales_pixels(tmp_path, gz):
    arrays = _idx_folder(tmp_path / "set", gz=gz)
    ds = load(f"idx:{tmp_path / 'set'}")
    assert (ds.n_train, ds.n_test, ds.n_features) == (30, 12, 12)
    np.testing.assert_allclose(ds.X_train, arrays["train-images-idx3-ubyte"].reshape(30, 12) / 255.0, rtol=1e-6)
    assert ds.X_train.min() >= 0.0 and ds.X_train.max() <= 1.0
    assert ds.classes == (1, 2, 3), "labels 1..3 are remapped to 0..2"
    np.testing.assert_array_equal(ds.y_train, arrays["train-labels-idx1-ubyte"] - 1)
    assert ds.source == str((tmp_path / "set").resolve())


def test_idx_folder_may_mix_plain_and_gzipped_files(tmp_path):
    arrays = _idx_folder(tmp_path, gz=True)
    gz = tmp_path / "t10k-labels-idx1-ubyte.gz"
    gz.unlink()
    write_idx(tmp_path / "t10k-labels-idx1-ubyte", arrays["t10k-labels-idx1-ubyte"])
    assert load(f"idx:{tmp_path}").n_test == 12


def test_idx_folder_errors(tmp_path):
    with pytest.raises(DataError, match=rf"^--data 'idx:{tmp_path}/nope': {tmp_path}/nope is not a folder$"):
        load(f"idx:{tmp_path}/nope")
    _idx_folder(tmp_path)
    (tmp_path / "t10k-images-idx3-ubyte.gz").unlink()
    with pytest.raises(DataError, match=r"lacks t10k-images-idx3-ubyte\[\.gz\]$"):
        load(f"idx:{tmp_path}")


def test_idx_folder_count_mismatch_names_both_files(tmp_path):
    _idx_folder(tmp_path)
    labels = tmp_path / "t10k-labels-idx1-ubyte.gz"
    write_idx(labels, np.zeros(11, np.uint8))
    with pytest.raises(DataError) as info:
        load(f"idx:{tmp_path}")
    assert str(info.value) == f"{tmp_path / 't10k-images-idx3-ubyte.gz'} holds 12 images but {labels} holds 11 labels"


def test_idx_folder_train_and_test_image_sizes_must_agree(tmp_path):
    _idx_folder(tmp_path)
    write_idx(tmp_path / "t10k-images-idx3-ubyte.gz", np.zeros((12, 5, 5), np.uint8))
    with pytest.raises(DataError, match="images have 25 pixels, but those in .* have 12"):
        load(f"idx:{tmp_path}")


# --- named IDX sets: $NEURONET_DATA, system folder, and the not-found message -----------------


def test_named_set_found_under_neuronet_data(tmp_path, monkeypatch):
    _idx_folder(tmp_path / "mnist", n_train=9, n_test=6, gz=False)
    monkeypatch.setenv("NEURONET_DATA", str(tmp_path))
    ds = load("mnist", max_train=5)
    assert (ds.n_train, ds.n_test) == (5, 6) and ds.source == str((tmp_path / "mnist").resolve())


def test_neuronet_data_takes_precedence_over_system_folder(tmp_path, monkeypatch):
    _idx_folder(tmp_path / "user" / "fashion-mnist", n_train=9, n_test=3)
    _idx_folder(tmp_path / "system", n_train=6, n_test=3)
    monkeypatch.setenv("NEURONET_DATA", str(tmp_path / "user"))
    monkeypatch.setitem(data.SYSTEM_DATA_DIRS, "fashion-mnist", (str(tmp_path / "system"),))
    assert load("fashion-mnist").n_train == 9
    monkeypatch.delenv("NEURONET_DATA")
    assert load("fashion-mnist").n_train == 6, "falls back to the system folder"


def test_named_set_not_found_says_where_it_looked_and_how_to_get_it(tmp_path, monkeypatch):
    (tmp_path / "fashion-mnist").mkdir()
    write_idx(tmp_path / "fashion-mnist" / "train-images-idx3-ubyte.gz", np.zeros((1, 2, 2), np.uint8))
    monkeypatch.setenv("NEURONET_DATA", str(tmp_path))
    monkeypatch.setitem(data.SYSTEM_DATA_DIRS, "fashion-mnist", (str(tmp_path / "absent"),))
    with pytest.raises(DataError) as info:
        load("fashion-mnist")
    message = str(info.value)
    assert "\n" not in message
    assert message.startswith("--data 'fashion-mnist': IDX files not found; looked in ")
    assert f"{tmp_path / 'fashion-mnist'} (lacks train-labels-idx1-ubyte[.gz], t10k-images" in message
    assert f"{tmp_path / 'absent'} (no such folder)" in message
    assert "apt-get install dataset-fashion-mnist" in message
    assert "$NEURONET_DATA/fashion-mnist/" in message


def test_mnist_not_found_without_neuronet_data(monkeypatch):
    monkeypatch.delenv("NEURONET_DATA", raising=False)
    with pytest.raises(
        DataError, match=r"^--data 'mnist': IDX files not found; looked in \$NEURONET_DATA \(not set\); put"
    ):
        load("mnist")


# --- the real Fashion-MNIST --------------------------------------------------------------------

FASHION = Path("/usr/share/datasets/fashion-mnist")


@pytest.fixture
def real_fashion_mnist(monkeypatch):
    """The Debian-packaged Fashion-MNIST; required under CI, optional elsewhere."""
    present = all((FASHION / f"{stem}.gz").is_file() for stem in data.IDX_FILES.values())
    if not present:
        message = f"Fashion-MNIST not installed in {FASHION} (apt-get install dataset-fashion-mnist)"
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail(f"CI must run the real-data test: {message}")
        pytest.skip(message)
    monkeypatch.delenv("NEURONET_DATA", raising=False)  # use the system copy, not a user's override
    return FASHION


def test_real_fashion_mnist(real_fashion_mnist):
    train_labels = read_idx(real_fashion_mnist / "train-labels-idx1-ubyte.gz")
    test_labels = read_idx(real_fashion_mnist / "t10k-labels-idx1-ubyte.gz")
    assert train_labels.shape == (60000,) and test_labels.shape == (10000,)
    assert np.bincount(train_labels).tolist() == [6000] * 10, "Fashion-MNIST has 6000 training images per class"

    ds = load("fashion-mnist", max_train=3000, max_test=2000)
    assert (ds.n_train, ds.n_test, ds.n_features) == (3000, 2000, 784)
    assert ds.n_classes == 10 and ds.classes == tuple(range(10))
    assert ds.X_train.dtype == np.float32 and ds.X_train.min() == 0.0 and ds.X_train.max() == 1.0
    assert 0.2 < ds.X_train.mean() < 0.4, "Fashion-MNIST's mean pixel is about 0.29"
    assert set(np.unique(ds.y_train).tolist()) == set(range(10))
    assert ds.source == str(real_fashion_mnist.resolve())


# --- the Dataset contract ----------------------------------------------------------------------


def test_dataset_refuses_inconsistent_arrays():
    X = np.zeros((4, 2), np.float32)
    y = np.array([0, 1, 0, 1])
    ok = Dataset("t", X, y, X, y, 2, "classification", (0, 1), "test")
    assert ok.n_features == 2 and "2 classes" in repr(ok)
    with pytest.raises(DataError, match="class indices outside 0..1"):
        Dataset("t", X, y + 1, X, y, 2, "classification", (0, 1))
    with pytest.raises(DataError, match="X_test must be a 2-D C-contiguous float array"):
        Dataset("t", X, y, np.asfortranarray(np.zeros((4, 2), np.float32)), y, 2, "classification", (0, 1))
    with pytest.raises(DataError, match="n_classes must be None for regression"):
        Dataset("t", X, y.astype(np.float32), X, y.astype(np.float32), 2, "regression")
    with pytest.raises(dataclasses.FrozenInstanceError):
        ok.name = "changed"


def test_digits_read_from_the_data_file_equal_scikit_learns_loader():
    from sklearn.datasets import load_digits

    from neuronet.data import _digits_arrays

    X, y = _digits_arrays()
    X_ref, y_ref = load_digits(return_X_y=True)
    np.testing.assert_array_equal(X, X_ref)
    np.testing.assert_array_equal(y, y_ref)
