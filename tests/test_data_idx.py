"""IDX reader and writer: round trips, every corruption named, and fuzzing."""

import gc
import gzip
import os
import re
import weakref

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from neuronet.data import idx as idx_module
from neuronet.data.idx import idx_to_float, load_idx_pair, read_idx, write_idx
from neuronet.errors import DataError


def _images(n=5, rows=3, cols=4, seed=0):
    return np.random.default_rng(seed).integers(0, 256, size=(n, rows, cols), dtype=np.uint8)


@pytest.mark.parametrize("suffix", ["", ".gz"])
@pytest.mark.parametrize(
    "array",
    [
        _images(),
        np.arange(7, dtype=np.uint8),
        np.array([-128, -1, 0, 127], dtype=np.int8),
        np.array([[-32768, 300], [1, 32767]], dtype=np.int16),
        np.arange(-6, 6, dtype=np.int32).reshape(2, 3, 2) * 100_000,
        np.linspace(-1, 1, 16, dtype=np.float32).reshape(2, 2, 2, 2),
        np.array([np.pi, -1e300, 5e-324], dtype=np.float64),
    ],
    ids=["uint8-3d", "uint8-1d", "int8", "int16", "int32", "float32-4d", "float64"],
)
def test_round_trip_preserves_values_shape_and_type(tmp_path, array, suffix):
    path = write_idx(tmp_path / f"a-idx{suffix}", array)
    back = read_idx(path)
    assert back.dtype == array.dtype and back.dtype.isnative, f"type changed: {array.dtype} -> {back.dtype}"
    assert back.shape == array.shape
    np.testing.assert_array_equal(back, array)


def test_header_layout_is_the_mnist_one(tmp_path):
    path = write_idx(tmp_path / "train-images-idx3-ubyte", np.zeros((2, 28, 28), np.uint8))
    raw = path.read_bytes()
    assert raw[:4] == b"\x00\x00\x08\x03", "magic 0x00000803 = uint8, 3 dimensions"
    assert raw[4:16] == (2).to_bytes(4, "big") + (28).to_bytes(4, "big") + (28).to_bytes(4, "big")
    assert len(raw) == 16 + 2 * 28 * 28


def test_gzip_is_detected_by_content_not_name(tmp_path):
    array = _images()
    gz_named_plain = write_idx(tmp_path / "plain", array).rename(tmp_path / "looks.gz")
    gz_unnamed = tmp_path / "gzipped-without-suffix"
    gz_unnamed.write_bytes(gzip.compress(write_idx(tmp_path / "x", array).read_bytes()))
    np.testing.assert_array_equal(read_idx(gz_named_plain), array)
    np.testing.assert_array_equal(read_idx(gz_unnamed), array)


def test_write_refuses_types_idx_cannot_hold(tmp_path):
    with pytest.raises(DataError, match="int64"):
        write_idx(tmp_path / "a", np.arange(3, dtype=np.int64))
    with pytest.raises(DataError, match="5-D"):
        write_idx(tmp_path / "a", np.zeros((1, 1, 1, 1, 1), np.uint8))


# --- every corruption is a DataError that names the file and the problem ---------


def _valid_bytes(tmp_path):
    return write_idx(tmp_path / "valid", _images()).read_bytes()  # 16-byte header + 60 bytes


CORRUPTIONS = {
    "bad magic (zero bytes)": (lambda b: b"\x12\x34" + b[2:], "bad magic number 0x12340803"),
    "bad magic (type code)": (
        lambda b: b[:2] + b"\x0a" + b[3:],
        r"bad magic number 0x00000A03 \(unknown type code 0x0A",
    ),
    "zero dimensions": (lambda b: b[:3] + b"\x00" + b[4:], "0 dimensions; expected 1 to 4"),
    "five dimensions": (lambda b: b[:3] + b"\x05" + b[4:], "5 dimensions; expected 1 to 4"),
    "short header": (lambda b: b[:3], r"truncated header \(3 bytes"),
    "short dims": (lambda b: b[:10], r"truncated header \(10 bytes; 3 dimensions need 16\)"),
    "truncated data": (lambda b: b[:-7], "truncated: header promises 60 data bytes .* only 53 present"),
    "trailing bytes": (lambda b: b + b"\x00\x01\x02", "3 trailing bytes after the 60 data bytes"),
    "absurd dims": (lambda b: b[:4] + b"\xff\xff\xff\xff" * 3 + b[16:], "more than the 2147483648 allowed"),
    "empty file": (lambda b: b"", r"truncated header \(0 bytes"),
}


@pytest.mark.parametrize("compress", [False, True], ids=["plain", "gz"])
@pytest.mark.parametrize("case", list(CORRUPTIONS))
def test_corrupt_file_is_a_data_error_naming_file_and_problem(tmp_path, case, compress):
    mutate, problem = CORRUPTIONS[case]
    data = mutate(_valid_bytes(tmp_path))
    path = tmp_path / "train-images-idx3-ubyte"
    path.write_bytes(gzip.compress(data) if compress else data)
    with pytest.raises(DataError) as info:
        read_idx(path)
    message = str(info.value)
    assert message.startswith(f"{path}: "), f"message should name the file: {message}"
    assert "\n" not in message
    if compress and case == "trailing bytes":
        problem = "trailing bytes after the 60 data bytes"  # a gzip stream does not reveal the count cheaply
    if compress and case == "truncated data":
        problem = "only 53 present after decompression"
    assert re.search(problem, message), f"expected /{problem}/ in: {message}"


@pytest.mark.parametrize(
    "damage",
    [
        lambda z: z[: len(z) // 2],
        lambda z: z[:-4] + bytes(b ^ 0xFF for b in z[-4:]),
        lambda z: z[:12] + b"\xff" * 20 + z[32:],
    ],
    ids=["cut-in-half", "bad-size-trailer", "garbled-deflate"],
)
def test_corrupt_gzip_stream_is_a_data_error(tmp_path, damage):
    path = tmp_path / "t10k-images-idx3-ubyte.gz"
    path.write_bytes(damage(gzip.compress(_valid_bytes(tmp_path) * 3)))
    with pytest.raises(DataError, match=rf"^{path}: (corrupt gzip stream|truncated|trailing)"):
        read_idx(path)


def test_absurd_dims_refused_before_allocating(tmp_path, monkeypatch):
    # A 30-byte file claiming 4 GB must fail on the header, not with MemoryError.
    path = tmp_path / "huge"
    path.write_bytes(b"\x00\x00\x08\x02" + (65536).to_bytes(4, "big") * 2 + b"\x00" * 18)
    with pytest.raises(DataError, match="header promises 4294967296 data bytes"):
        read_idx(path)
    monkeypatch.setattr(idx_module, "MAX_DATA_BYTES", 50)
    small = write_idx(tmp_path / "small", _images())  # 60 bytes of data
    with pytest.raises(DataError, match="more than the 50 allowed"):
        read_idx(small)


def test_missing_file_and_folder(tmp_path):
    with pytest.raises(DataError, match=rf"^{tmp_path / 'nope'}: no such file$"):
        read_idx(tmp_path / "nope")
    with pytest.raises(DataError, match="is a folder"):
        read_idx(tmp_path)


# --- image/label pairs -------------------------------------------------------------


def test_pair_flattens_images_row_by_row(tmp_path):
    images = _images(n=4, rows=2, cols=3)
    labels = np.array([3, 0, 255, 7], np.uint8)
    X, y = load_idx_pair(write_idx(tmp_path / "i.gz", images), write_idx(tmp_path / "l", labels))
    assert X.shape == (4, 6)
    np.testing.assert_array_equal(X[2], images[2].ravel())
    assert y.dtype == np.int64 and y.tolist() == [3, 0, 255, 7]


def test_pair_count_mismatch_names_both_files(tmp_path):
    images = write_idx(tmp_path / "train-images-idx3-ubyte", _images(n=5))
    labels = write_idx(tmp_path / "train-labels-idx1-ubyte", np.zeros(4, np.uint8))
    with pytest.raises(DataError) as info:
        load_idx_pair(images, labels)
    assert str(info.value) == f"{images} holds 5 images but {labels} holds 4 labels"


@pytest.mark.parametrize(
    "labels, problem",
    [
        (np.zeros((5, 1), np.uint8), r"expected labels of shape \(n,\), got shape \(5, 1\)"),
        (np.array([0, 1, 2, 3, 256], np.int32), "labels must lie in 0..255, found 0..256"),
        (np.array([0, 1, 2, 3, -1], np.int16), "labels must lie in 0..255, found -1..3"),
        (np.zeros(5, np.float32), "labels must be integers, got float32"),
    ],
)
def test_pair_rejects_bad_labels(tmp_path, labels, problem):
    images = write_idx(tmp_path / "img", _images(n=5))
    path = write_idx(tmp_path / "lab", labels)
    with pytest.raises(DataError, match=rf"^{path}: {problem}"):
        load_idx_pair(images, path)


def test_pair_rejects_labels_file_given_as_images(tmp_path):
    labels = write_idx(tmp_path / "lab", np.zeros(5, np.uint8))
    with pytest.raises(DataError, match=r"expected images of shape \(n, rows, cols\), got shape \(5,\)"):
        load_idx_pair(labels, labels)


def test_uint8_pixels_scale_to_unit_interval_exactly():
    X = np.array([[0, 51, 255]], np.uint8)
    out = idx_to_float(X)
    assert out.dtype == np.float32 and out.flags.c_contiguous
    assert out.tolist() == [[0.0, np.float32(0.2), 1.0]], "255 must map to exactly 1.0"


# --- fuzzing: the only outcomes are an array or a DataError ---------------------------

_BASE_IMAGES = _images(n=3, rows=4, cols=5, seed=1)


def _serialize(array, compress):
    header = bytes([0, 0, 0x08, array.ndim]) + b"".join(int(d).to_bytes(4, "big") for d in array.shape)
    raw = header + array.tobytes()
    return gzip.compress(raw, mtime=0) if compress else raw


@st.composite
def mutated_files(draw):
    data = bytearray(_serialize(_BASE_IMAGES, draw(st.booleans())))
    for _ in range(draw(st.integers(1, 4))):
        kind = draw(st.sampled_from(["flip", "truncate", "append", "insert", "delete"]))
        pos = draw(st.integers(0, max(len(data) - 1, 0)))
        if kind == "flip" and data:
            data[pos] ^= draw(st.integers(1, 255))
        elif kind == "truncate":
            del data[pos:]
        elif kind == "append":
            data += draw(st.binary(min_size=1, max_size=16))
        elif kind == "insert":
            data[pos:pos] = draw(st.binary(min_size=1, max_size=8))
        elif kind == "delete" and data:
            del data[pos : pos + draw(st.integers(1, 8))]
    return bytes(data)


FUZZ = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def _read_or_data_error(path):
    try:
        array = read_idx(path)
    except DataError as exc:
        assert str(exc).startswith(f"{path}: "), f"message does not name the file: {exc}"
        assert "\n" not in str(exc)
        return None
    assert isinstance(array, np.ndarray) and 1 <= array.ndim <= 4
    return array


@FUZZ
@given(data=st.one_of(st.binary(max_size=64), st.binary(max_size=24).map(lambda b: b"\x1f\x8b" + b)))
def test_fuzz_random_bytes(tmp_path, data):
    path = tmp_path / "random-idx"
    path.write_bytes(data)
    _read_or_data_error(path)


@FUZZ
@given(data=mutated_files())
def test_fuzz_mutated_valid_files(tmp_path, data):
    path = tmp_path / "mutated-idx"
    path.write_bytes(data)
    _read_or_data_error(path)  # a mutation that keeps the file valid (a flipped pixel) may load


@FUZZ
@given(data=mutated_files())
def test_fuzz_mutated_images_through_load_idx_pair(tmp_path, data):
    images = tmp_path / "images"
    images.write_bytes(data)
    labels = write_idx(tmp_path / "labels", np.array([1, 2, 3], np.uint8))
    try:
        X, y = load_idx_pair(images, labels)
    except DataError:
        return
    assert X.shape[0] == y.shape[0] == 3


def test_write_idx_on_a_full_disk_names_the_file_and_leaves_nothing(tmp_path, full_disk):
    target = tmp_path / "train-images-idx3-ubyte"
    with pytest.raises(OSError, match="No space left on device") as info:
        write_idx(target, _images())
    assert info.value.filename == str(target), "the error must name the file being written"
    assert list(tmp_path.iterdir()) == [], "no partial or temporary file may remain"


def test_a_pair_in_use_is_not_read_again_and_an_edited_file_is(tmp_path, monkeypatch):
    images, labels = tmp_path / "img", tmp_path / "lab"
    write_idx(images, np.arange(2 * 2 * 3, dtype=np.uint8).reshape(2, 2, 3))
    write_idx(labels, np.array([1, 0], dtype=np.uint8))
    reads = []
    real_read = idx_module._read_pair
    monkeypatch.setattr(idx_module, "_read_pair", lambda *a: reads.append(a) or real_read(*a))
    X1, y1 = load_idx_pair(images, labels)
    X2, y2 = load_idx_pair(images, labels)
    assert len(reads) == 1 and np.shares_memory(X2, X1) and y2 is y1, "a pair in use is not read again"
    head = X1[:1]
    del X1, X2, y1, y2
    gc.collect()
    X2, _ = load_idx_pair(images, labels)  # only a view of the images is left, as data.load keeps one
    assert len(reads) == 1 and np.shares_memory(X2, head), "a view keeps the pixels in use"
    X1, y1 = X2, _
    with pytest.raises(ValueError):
        X1[0, 0] = 99  # read-only: no caller can change what the next one gets
    with pytest.raises(ValueError):
        X1.flags.writeable = True  # not even by asking for it back
    mtime = os.stat(labels).st_mtime_ns
    write_idx(labels, np.array([0, 1], dtype=np.uint8))  # same size, atomically replaced
    os.utime(labels, ns=(mtime, mtime))  # and the old mtime, as cp -p or rsync -t would leave it
    X3, y3 = load_idx_pair(images, labels)
    assert X3 is not X1 and len(reads) == 2, "a new pair, not the cached one"
    assert y3.tolist() == [0, 1] and y1.tolist() == [1, 0], "an edited file is read again"


def test_a_pair_read_once_is_not_kept_and_one_read_twice_is(tmp_path, monkeypatch):
    """One load (``neuronet train``, a fit) leaves no raw copy behind; a process that loads the same pair
    again (the lecture's runs) keeps it from the second read on."""
    images, labels = tmp_path / "img", tmp_path / "lab"
    write_idx(images, _images())
    write_idx(labels, np.arange(5, dtype=np.uint8))
    reads = []
    real_read = idx_module._read_pair
    monkeypatch.setattr(idx_module, "_read_pair", lambda *a: reads.append(a) or real_read(*a))
    X1, _ = load_idx_pair(images, labels)
    gone = weakref.ref(X1.base)  # the pixels' memory, which every view of X1 points to
    del X1, _
    gc.collect()
    assert gone() is None, "a pair read once must be freed when its caller lets go of it"
    assert len(reads) == 1
    X2, y2 = load_idx_pair(images, labels)
    assert len(reads) == 2, "freed, so the second load reads the files again"
    kept = weakref.ref(X2)
    del X2, y2
    gc.collect()
    assert kept() is not None, "a pair read twice is kept by the process"
    X3, _ = load_idx_pair(images, labels)
    assert X3 is kept() and len(reads) == 2, "and the third load reads nothing"
    assert X3.tolist() == _images().reshape(5, -1).tolist()


def test_a_process_that_runs_tasks_reads_a_pair_once(tmp_path, monkeypatch):
    """Every experiment run and sweep trial calls ``keep_pairs`` before it loads anything: two runs in one
    process (a lecture or sweep worker) that each load a set and let go of it decompress it once."""
    import dataclasses

    from neuronet.experiments import base, runner
    from neuronet.sweep import parse_spec
    from neuronet.sweep.trials import run_trial

    images, labels = tmp_path / "img", tmp_path / "lab"
    write_idx(images, _images())
    write_idx(labels, np.arange(5, dtype=np.uint8))
    name = "softmax-derivatives"
    exp = base.get_experiment(name)

    def fn(cfg):  # the run loads the set and drops it, as an image experiment's run does
        load_idx_pair(images, labels)
        return exp.fn(cfg)

    monkeypatch.setitem(base.EXPERIMENTS, name, dataclasses.replace(exp, fn=fn))
    trial = parse_spec(f'experiment = "{name}"\nseeds = [0]\n').trials()[0]
    for each in (
        lambda: runner.run_task(runner.Task("t", name, {}, None)),
        lambda: run_trial(trial),
        lambda: runner.run_one(name, runner.experiment_config(name), backend="serial"),
    ):
        monkeypatch.setitem(idx_module._KEEP, "from_first_read", False)
        monkeypatch.setattr(idx_module, "_PAIRS", {})
        monkeypatch.setattr(idx_module, "_ONCE", {})
        reads = []
        real_read = idx_module._read_pair
        monkeypatch.setattr(
            idx_module, "_read_pair", lambda *a, reads=reads, real_read=real_read: reads.append(a) or real_read(*a)
        )
        each()
        gc.collect()
        each()
        assert len(reads) == 1, "a second run in the same process must not decompress the set again"
        monkeypatch.setattr(idx_module, "_read_pair", real_read)
