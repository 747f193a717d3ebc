"""CSV and NPZ files through ``neuronet.data.load``."""

import io
import warnings
import zipfile

import numpy as np
import pytest

from neuronet.data import load
from neuronet.data.tabular import encode_labels, read_csv
from neuronet.errors import DataError


def _csv(tmp_path, text, name="data.csv"):
    path = tmp_path / name
    path.write_text(text)
    return path


def _two_class_rows(n=10):
    return "".join(f"{i},{i * 0.5},{'yes' if i % 2 else 'no'}\n" for i in range(n))


# --- CSV: what loads ---------------------------------------------------------------------


def test_csv_with_header_and_string_labels(tmp_path):
    path = _csv(tmp_path, "x,y,answer\n" + _two_class_rows())
    ds = load(str(path), test_fraction=0.2, seed=0)
    assert ds.classes == ("no", "yes") and ds.n_classes == 2 and ds.task == "classification"
    assert ds.n_train + ds.n_test == 10, "the header must not count as a row"
    assert (ds.n_train, ds.n_test) == (8, 2)
    # every row keeps its own label: label is 'yes' exactly for odd first column
    for X, y in ((ds.X_train, ds.y_train), (ds.X_test, ds.y_test)):
        np.testing.assert_array_equal(np.asarray(ds.classes)[y] == "yes", X[:, 0] % 2 == 1)
        np.testing.assert_allclose(X[:, 1], X[:, 0] * 0.5)
    assert ds.X_train.dtype == np.float32 and ds.source == str(path)


def test_csv_without_header_keeps_first_row(tmp_path):
    path = _csv(tmp_path, "0,0,0\n1,1,1\n2,2,0\n3,3,1\n")
    X, labels = read_csv(path)
    assert X.tolist() == [[0, 0], [1, 1], [2, 2], [3, 3]]
    assert labels.dtype == np.int64 and labels.tolist() == [0, 1, 0, 1]


def test_csv_header_detected_from_label_cell_alone(tmp_path):
    # Numeric column names, non-numeric label header: still a header.
    X, labels = read_csv(_csv(tmp_path, "0,1,class\n5,6,1\n7,8,2\n"))
    assert X.tolist() == [[5, 6], [7, 8]] and labels.tolist() == [1, 2]


@pytest.mark.parametrize("column", [0, -3])
def test_csv_label_column(tmp_path, column):
    path = _csv(tmp_path, "label,a,b\n3,0.5,1\n7,0.25,2\n3,1,3\n7,2,4\n")
    ds = load(str(path), label_column=column, test_fraction=0.5)
    assert ds.classes == (3, 7) and ds.n_features == 2
    X = np.vstack([ds.X_train, ds.X_test])
    y = np.concatenate([ds.y_train, ds.y_test])
    rows = {tuple(r): ds.classes[c] for r, c in zip(X.tolist(), y)}
    assert rows == {(0.5, 1.0): 3, (0.25, 2.0): 7, (1.0, 3.0): 3, (2.0, 4.0): 7}


def test_csv_label_column_out_of_range(tmp_path):
    path = _csv(tmp_path, "1,2,0\n3,4,1\n")
    with pytest.raises(
        DataError, match=rf"^label_column: 3 is out of range for the 3 columns of {path} \(valid: -3..2\)$"
    ):
        load(str(path), label_column=3)


def test_csv_blank_lines_and_crlf_are_tolerated(tmp_path):
    path = tmp_path / "d.csv"
    path.write_bytes(b"a,b,c\r\n1,2,x\r\n\r\n3,4,y\r\n5,6,x\r\n6,7,y\r\n\r\n")
    X, labels = read_csv(path)
    assert X.shape == (4, 2) and labels.tolist() == ["x", "y", "x", "y"]


def test_csv_continuous_labels_make_a_regression_set(tmp_path):
    rows = "".join(f"{i},{i * 0.1 + 0.05}\n" for i in range(20))
    ds = load(str(_csv(tmp_path, rows)))
    assert ds.task == "regression" and ds.n_classes is None and ds.classes == ()
    assert ds.y_train.dtype == np.float32
    np.testing.assert_allclose(ds.y_train, ds.X_train[:, 0] * 0.1 + 0.05, rtol=1e-5)
    forced = load(str(_csv(tmp_path, "1,0\n2,1\n3,2\n4,3\n5,4\n", "counts.csv")), task="regression")
    assert forced.task == "regression" and forced.y_train.dtype == np.float32


def test_csv_split_is_stratified_and_seeded(tmp_path):
    rows = "".join(f"{i},{i % 4}\n" for i in range(40))
    path = str(_csv(tmp_path, rows))
    a, b, c = load(path, seed=1), load(path, seed=1), load(path, seed=2)
    assert np.bincount(a.y_test).tolist() == [2, 2, 2, 2], "20% of each of 4 classes of 10"
    np.testing.assert_array_equal(a.X_test, b.X_test)
    assert not np.array_equal(np.sort(a.X_test[:, 0]), np.sort(c.X_test[:, 0]))


# --- CSV: what fails, and what the message says ---------------------------------------------


@pytest.mark.parametrize(
    "text, problem",
    [
        ("a,b,c\n1,2,0\n3,4\n5,6,1\n", "line 3 has 2 fields, expected 3 (as on line 1)"),
        ("1,2,0\n3,4,1\n\n5,6,7,1\n", "line 4 has 4 fields, expected 3 (as on line 1)"),
        ("a,b,c\n1,2,0\n3,x4,1\n", "line 3, column 2 ('b'): 'x4' is not a number"),
        ("1,2,0\n3,,1\n", "line 2, column 2: missing value"),
        ("a,b,c\n1,2,0\n3,nan,1\n", "line 3, column 2 ('b'): 'nan' is NaN or infinity; features must be finite"),
        ("1,2,0\n-inf,4,1\n", "line 2, column 1: '-inf' is NaN or infinity; features must be finite"),
        ("1,1e39,0\n3,4,1\n", "line 1, column 2: '1e39' overflows float32"),
        ("1,2,0\n3,4,\n", "line 2: missing label (column 3)"),
        ("a,b,c\n1,2,0\n3,4,0\n", "label column: only class 0; a classifier needs at least 2 classes"),
        ("1\n2\n", "line 1 has 1 column; need at least one feature column and a label column"),
        ("a,b,c\n", "has a header but no data rows"),
        ("", "empty file (no rows)"),
        ("\n\n \n", "empty file (no rows)"),
    ],
    ids=[
        "ragged-short",
        "ragged-long",
        "non-numeric",
        "missing",
        "nan",
        "inf",
        "overflow",
        "no-label",
        "single-class",
        "one-column",
        "header-only",
        "empty",
        "blank",
    ],
)
def test_csv_errors_name_file_line_and_problem(tmp_path, text, problem):
    path = _csv(tmp_path, text)
    with pytest.raises(DataError) as info:
        load(str(path))
    assert str(info.value) == f"{path}: {problem}"


def test_csv_missing_file(tmp_path):
    with pytest.raises(DataError, match=rf"^{tmp_path}/absent.csv: no such file$"):
        load(str(tmp_path / "absent.csv"))


def test_csv_binary_file_is_refused(tmp_path):
    path = tmp_path / "b.csv"
    path.write_bytes(b"1,2,0\n\xff\xfe,1\n")
    with pytest.raises(DataError, match=r"not UTF-8 text \(byte 0xFF at offset 6\)"):
        load(str(path))


def test_encode_labels_refuses_unknown_task():
    with pytest.raises(DataError, match="task: 'clustering' is not a task; valid: classification, regression"):
        encode_labels(np.array([0, 1]), 2, task="clustering")


# --- NPZ ------------------------------------------------------------------------------------


def test_npz_with_its_own_test_split(tmp_path):
    path = tmp_path / "d.npz"
    X = np.arange(20, dtype=np.float64).reshape(10, 2)
    y = np.array([5, 9] * 5)
    X_test = np.ones((3, 2))
    y_test = np.array([9, 9, 7])  # class 7 appears only in the test split
    np.savez(path, X=X, y=y, X_test=X_test, y_test=y_test)
    ds = load(str(path))
    assert ds.classes == (5, 7, 9) and ds.n_classes == 3
    np.testing.assert_array_equal(ds.X_train, X.astype(np.float32))
    assert ds.y_train.tolist() == [0, 2] * 5 and ds.y_test.tolist() == [2, 2, 1]
    assert ds.X_test.dtype == np.float32 and ds.X_test.shape == (3, 2)


def test_npz_without_test_split_is_split_seeded(tmp_path):
    path = tmp_path / "d.npz"
    np.savez_compressed(path, X=np.arange(40.0).reshape(20, 2), y=np.array(["a", "b"] * 10))
    ds = load(str(path), test_fraction=0.25, seed=3)
    assert (ds.n_train, ds.n_test) == (15, 5) and ds.classes == ("a", "b")
    assert sorted(np.bincount(ds.y_test).tolist()) == [2, 3], "5 held out, as evenly as 10 + 10 allows"
    np.testing.assert_array_equal(ds.X_test, load(str(path), test_fraction=0.25, seed=3).X_test)


def test_npz_missing_key(tmp_path):
    path = tmp_path / "d.npz"
    np.savez(path, X=np.zeros((3, 2)), labels=np.zeros(3))
    with pytest.raises(DataError) as info:
        load(str(path))
    assert str(info.value) == (
        f"{path}: no array 'y' (found: X, labels); expected arrays X (n_samples, n_features) and y (n_samples,)"
    )


def test_npz_object_array_is_never_unpickled(tmp_path):
    path = tmp_path / "d.npz"
    np.savez(path, X=np.zeros((2, 2)), y=np.array([{"a": 1}, None], dtype=object))
    with pytest.raises(
        DataError, match=rf"^{path}: array 'y' holds Python objects \(dtype=object\); refusing to unpickle"
    ):
        load(str(path))


@pytest.mark.parametrize(
    "arrays, problem",
    [
        ({"X": np.zeros(3), "y": np.zeros(3)}, r"\[X\]: expected a 2-D array"),
        (
            {"X": np.array([[0.0, np.inf]] * 2), "y": np.array([0, 1])},
            r"\[X\]: contains NaN or infinity \(first at row 0, column 1\)",
        ),
        ({"X": np.zeros((3, 2)), "y": np.array([0, 1])}, r"\[y\]: has 2 labels, but X has 3 samples"),
        ({"X": np.zeros((2, 2)), "y": np.array([0, 1]), "X_test": np.zeros((1, 2))}, ": has X_test but no y_test"),
        (
            {"X": np.zeros((2, 2)), "y": np.array([0, 1]), "X_test": np.zeros((1, 3)), "y_test": np.array([0])},
            r"\[X_test\]: has 3 features, but X has 2",
        ),
    ],
    ids=["X-1d", "X-inf", "y-length", "half-test", "test-width"],
)
def test_npz_malformed(tmp_path, arrays, problem):
    path = tmp_path / "d.npz"
    np.savez(path, **arrays)
    with pytest.raises(DataError, match=f"^{path}{problem}"):
        load(str(path))


def test_npz_that_is_not_an_archive(tmp_path):
    path = tmp_path / "d.npz"
    for junk in (b"this is not a zip file", np.random.default_rng(0).bytes(1000)):
        path.write_bytes(junk)
        with pytest.raises(DataError, match=rf"^{path}: not a zip/npz archive") as info:
            load(str(path))
        assert "pickle" not in str(info.value), f"never suggest unpickling a file: {info.value}"
    np.save(tmp_path / "single.npy", np.zeros(3))
    (tmp_path / "single.npy").rename(path)
    with pytest.raises(DataError, match="holds a single array; expected an .npz archive"):
        load(str(path))


def _npz_claiming(path, shape, dtype="<f4", data=b"\0" * 16):
    """An .npz whose X.npy header claims ``shape`` but holds only ``data``; y is a real 3-vector."""
    head = io.BytesIO()
    np.lib.format.write_array_header_1_0(head, {"descr": dtype, "fortran_order": False, "shape": shape})
    y = io.BytesIO()
    np.save(y, np.arange(3.0))
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("X.npy", head.getvalue() + data)
        zf.writestr("y.npy", y.getvalue())
    return path


def test_npz_whose_header_claims_a_huge_shape_is_refused_before_allocating(tmp_path):
    # 10^9 x 10^6 float32 = 4 * 10^15 bytes: numpy would try to allocate it (MemoryError) before reading
    path = _npz_claiming(tmp_path / "huge.npz", (10**9, 10**6))
    with pytest.raises(DataError) as info:
        load(str(path))
    msg = str(info.value)
    assert msg.startswith(f"{path}: array 'X' is too large") and "3725290.3 GB" in msg, msg
    assert "\n" not in msg


def test_npz_whose_header_claims_more_bytes_than_it_holds_is_corrupt(tmp_path):
    path = _npz_claiming(tmp_path / "short.npz", (100, 4))  # 1600 bytes claimed, 16 held
    with pytest.raises(DataError, match=rf"^{path}: array 'X' is corrupt: its header claims shape \(100, 4\)"):
        load(str(path))


def test_npy_input_whose_header_claims_a_huge_shape_is_refused(tmp_path):
    from neuronet.data.tabular import read_features

    head = io.BytesIO()
    np.lib.format.write_array_header_1_0(head, {"descr": "<f8", "fortran_order": False, "shape": (10**9, 10**6)})
    path = tmp_path / "x.npy"
    path.write_bytes(head.getvalue() + b"\0" * 64)
    with pytest.raises(DataError, match=rf"^{path}: the array is too large: .* would need 7450580.6 GB"):
        read_features(path)


@pytest.mark.parametrize("head", ["a", "a,b,c"])
def test_features_csv_whose_header_and_rows_differ_in_width_is_refused(tmp_path, head):
    from neuronet.data.tabular import read_features

    path = tmp_path / "x.csv"
    path.write_text(f"{head}\n1,2\n3,4\n")
    n = len(head.split(","))
    with pytest.raises(DataError, match=rf"^{path}: the header \(line 1\) has {n} columns, but the rows have 2$"):
        read_features(path)


# --- CSV: header and task, said or given ---------------------------------------------------


def _load_warned(path, **kw):
    """``load(path, **kw)`` and the messages of the warnings it raised."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        ds = load(str(path), **kw)
    return ds, [str(w.message) for w in caught]


def test_a_detected_header_is_announced_with_the_cells_that_made_it_one(tmp_path):
    path = _csv(tmp_path, "x0,x1,label\n" + "".join(f"{i},{i + 1},{i % 2}\n" for i in range(10)))
    ds, said = _load_warned(path)
    assert ds.n_train + ds.n_test == 10
    assert said == [
        f"{path}: first row read as a header (non-numeric cells: 'x0', 'x1'); --no-header "
        "(header=False) reads it as data"
    ], said
    _, said = _load_warned(path, csv_header=True)
    assert said == [], "a header that was asked for is not announced"


def test_a_typo_in_the_first_row_is_an_error_with_header_false(tmp_path):
    # '2x' made the first data row a header, silently dropping it
    path = _csv(tmp_path, "1,2x,0\n" + "".join(f"{i},{i + 1},{i % 2}\n" for i in range(10)))
    ds, said = _load_warned(path)
    assert ds.n_train + ds.n_test == 10 and said and "'2x'" in said[0], "auto-detection must name the cell"
    with pytest.raises(DataError, match=rf"^{path}: line 1, column 2: '2x' is not a number \(the first row is data"):
        load(str(path), csv_header=False)


def test_header_false_refuses_a_non_numeric_label_above_numeric_ones(tmp_path):
    path = _csv(tmp_path, "1,2,class\n" + "".join(f"{i},{i + 1},{i % 2}\n" for i in range(10)))
    with pytest.raises(DataError, match=rf"^{path}: line 1, column 3: label 'class' is not a number"):
        load(str(path), csv_header=False)


def test_header_true_drops_a_numeric_first_row(tmp_path):
    path = _csv(tmp_path, "0,1,2\n" + "".join(f"{i},{i + 1},{i % 2}\n" for i in range(10)))
    assert load(str(path)).n_train + load(str(path)).n_test == 11, "a numeric first row is data by default"
    ds, said = _load_warned(path, csv_header=True)
    assert ds.n_train + ds.n_test == 10 and said == []


def test_one_non_integer_label_is_an_error_naming_its_line_with_task_classification(tmp_path):
    rows = [f"{i},{i + 1},{i % 3}" for i in range(12)]
    rows[6] = "6,7,1.5"
    path = _csv(tmp_path, "\n".join(rows) + "\n")
    ds, said = _load_warned(path)
    assert ds.task == "regression", "auto-detection still reads it as regression ..."
    assert said == [
        f"{path}: labels are not all integers (line 7: '1.5'), so the task is regression; "
        "--task classification (task='classification') refuses them"
    ], "... and says so"
    with pytest.raises(DataError, match=rf"^{path}: line 7: class labels must be integers, got '1.5'"):
        load(str(path), csv_task="classification")
    with pytest.raises(DataError, match=rf"^{path}: line 7: class labels must be integers, got '1.5'"):
        load(str(path), task="classification")


def test_task_classification_accepts_integral_floats_and_class_names(tmp_path):
    floats = _csv(tmp_path, "".join(f"{i},{i % 2}.0\n" for i in range(10)), "floats.csv")
    ds, said = _load_warned(floats, csv_task="classification")
    assert ds.task == "classification" and ds.n_classes == 2 and said == []
    names = _csv(tmp_path, _two_class_rows(), "names.csv")
    assert load(str(names), csv_task="classification").classes == ("no", "yes")


def test_labels_mixing_numbers_and_text(tmp_path):
    rows = [f"{i},{i % 2}" for i in range(10)]
    rows[4] = "4,l"  # a typo for 1
    path = _csv(tmp_path, "\n".join(rows) + "\n")
    ds, said = _load_warned(path)
    assert ds.classes == ("0", "1", "l") and said and "line 5: 'l'" in said[0], said
    with pytest.raises(DataError, match=rf"^{path}: line 5: class labels must be integers, got 'l'"):
        load(str(path), csv_task="classification")


def test_task_regression_refuses_text_and_non_finite_labels_by_line(tmp_path):
    path = _csv(tmp_path, "1,0.5\n2,1.5\n3,nan\n4,2\n")
    with pytest.raises(DataError, match=rf"^{path}: line 3: label 'nan' is not a finite number \(task regression\)"):
        load(str(path), csv_task="regression")
    ints = _csv(tmp_path, "".join(f"{i},{i % 3}\n" for i in range(10)), "ints.csv")
    ds, said = _load_warned(ints, csv_task="regression")
    assert ds.task == "regression" and ds.y_train.dtype == np.float32 and said == []


def test_csv_options_are_checked(tmp_path):
    path = _csv(tmp_path, "".join(f"{i},{i % 2}\n" for i in range(10)))
    with pytest.raises(DataError, match="csv_task: applies to CSV files only, not to --data 'digits'"):
        load("digits", csv_task="classification")
    with pytest.raises(DataError, match="csv_header: applies to CSV files only, not to --data 'xor'"):
        load("xor", csv_header=False)
    with pytest.raises(DataError, match="csv_task: 'regression' contradicts task 'classification'"):
        load(str(path), csv_task="regression", task="classification")
    with pytest.raises(DataError, match=r"task: 'clustering' is not a task; valid: classification, regression"):
        load(str(path), csv_task="clustering")
    with pytest.raises(DataError, match="header: expected True, False or None"):
        read_csv(path, header="yes")


def test_an_unreadable_npz_is_one_data_error(tmp_path, monkeypatch):
    import errno

    from neuronet.data import load, tabular
    from neuronet.errors import DataError

    p = tmp_path / "d.npz"
    np.savez(p, X=np.zeros((4, 2)), y=np.array([0, 1, 0, 1]))

    def denied(name, *a, **k):  # what open() raises for a file this user may not read (root reads all)
        raise PermissionError(errno.EACCES, "Permission denied", str(name))

    monkeypatch.setattr(tabular, "open", denied, raising=False)
    with pytest.raises(DataError, match=rf"^{p}: cannot read the file \(Permission denied\)$"):
        load(str(p))


def test_npz_test_classes_never_seen_in_training_are_warned_about(tmp_path):
    path = tmp_path / "unseen.npz"
    rng = np.random.default_rng(0)
    np.savez(path, X=rng.normal(size=(40, 3)), y=np.arange(40) % 2, X_test=np.zeros((6, 3)), y_test=[0, 1, 5, 6, 5, 1])
    from neuronet.data import UnseenClassesWarning

    never = r"unseen.npz\[y_test\]: classes 5, 6 never appear in .*unseen.npz\[y\]; a network trained on this set never"
    with pytest.warns(UnseenClassesWarning, match=never):
        ds = load(str(path))
    assert ds.n_classes == 4  # the outputs still exist: the test labels are what they are
    np.savez(path, X=rng.normal(size=(40, 3)), y=np.arange(40) % 2, X_test=np.zeros((2, 3)), y_test=[0, 1])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        load(str(path))  # every test class seen in training: no warning


def test_features_csv_names_a_nan_or_overflow_by_file_line_and_column(tmp_path):
    from neuronet.data.tabular import read_features

    path = tmp_path / "x.csv"
    path.write_text("a,b\n1,2\n3,nan\n")
    with pytest.raises(DataError, match=rf"^{path}: line 3, column 2 \('b'\): 'nan' is NaN or infinity"):
        read_features(path)
    path.write_text("1,2\n1e50,4\n")
    with pytest.raises(DataError, match=rf"^{path}: line 2, column 1: '1e50' overflows float32"):
        read_features(path)
