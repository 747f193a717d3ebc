"""Model files and checkpoints: exact round trips, strict validation, atomic writes, resumable training."""

import hashlib
import json
import os
import pickle
import re
import stat
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest
import safetensors.numpy
from safetensors import safe_open

from conftest import break_temp_file_writes
from neuronet import Trainer, mlp
from neuronet.errors import ModelFileError
from neuronet.modelfile import (
    MAX_HEADER_BYTES,
    atomic_write_bytes,
    config_hash,
    inspect_model,
    load_checkpoint,
    load_model,
    save_checkpoint,
    save_model,
)
from neuronet.modelfile.container import METADATA_DIGEST_KEY, metadata_digest


# -- helpers ------------------------------------------------------------------------------------
def _data(n=120, d=6, k=3, seed=0, dtype=np.float32):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d)).astype(dtype)
    y = (np.argmax(X[:, :k], axis=1)).astype(np.int64)
    return X, y


def _trained(hidden="tanh", output="softmax", dtype=np.float32, epochs=2, **kw):
    X, y = _data(dtype=dtype)
    n_out = 1 if output == "sigmoid" else 3
    yy = (y == 0).astype(np.int64) if n_out == 1 else y
    net = mlp([6, 5, 4, n_out], hidden=hidden, output=output, dtype=dtype, seed=1, **kw)
    Trainer(net, "momentum", lr=0.05, epochs=epochs, batch_size=32, seed=0, diagnostics=False).fit(X, yy)
    return net, X


def _split(blob: bytes):
    """(header dict, tensor data) of a safetensors file's bytes."""
    n = int.from_bytes(blob[:8], "little")
    return json.loads(blob[8 : 8 + n]), blob[8 + n :]


def _craft(header, data=b"", length=None) -> bytes:
    """A safetensors-shaped file by hand: 8-byte little-endian length, JSON header, data."""
    raw = header if isinstance(header, bytes) else json.dumps(header).encode()
    return (len(raw) if length is None else length).to_bytes(8, "little") + raw + data


@pytest.fixture(scope="module")
def small_model_bytes(tmp_path_factory):
    net = mlp([3, 4, 2], hidden="sigmoid", output="softmax", seed=0)
    p = tmp_path_factory.mktemp("valid") / "m.safetensors"
    save_model(p, net, metadata={"classes": ["a", "b"]})
    return p.read_bytes()


def _expect_error(path, *fragments):
    with pytest.raises(ModelFileError) as info:
        load_model(path)
    msg = str(info.value)
    assert msg.startswith(f"{path}: "), f"message should start with the path: {msg!r}"
    assert "\n" not in msg, f"message should be one line: {msg!r}"
    for f in fragments:
        assert f in msg, f"expected {f!r} in {msg!r}"
    return msg


# -- round trips ----------------------------------------------------------------------------------
HIDDEN_UNITS = [
    "identity",
    {"name": "sigmoid", "prime_offset": 0.1},
    "tanh",
    "lecun-tanh",
    "relu",
    {"name": "leaky-relu", "slope": 0.2},
    "softplus",
    "softmax",
]
OUTPUTS = ["softmax", "sigmoid", "identity"]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("i", range(len(HIDDEN_UNITS)))
def test_round_trip_of_a_trained_network_predicts_bit_identically(tmp_path, dtype, i):
    net, X = _trained(hidden=HIDDEN_UNITS[i], output=OUTPUTS[i % 3], dtype=dtype)
    p = tmp_path / "model.safetensors"
    save_model(p, net)
    net2, meta = load_model(p)
    assert meta == {}
    assert net2.config() == net.config(), "architecture (units and their parameters, loss, dtype) must survive"
    assert net2.dtype == np.dtype(dtype)
    for a, b in zip(net.params, net2.params):
        assert a.dtype == b.dtype and np.array_equal(a, b), "weights must round-trip bit for bit"
    pa, pb = net.predict(X), net2.predict(X)
    assert pa.dtype == pb.dtype == np.dtype(dtype)
    assert np.array_equal(pa, pb), "predictions of the loaded network must be bit-identical"


def test_file_is_a_real_safetensors_file_with_the_documented_schema(tmp_path):
    net, _ = _trained(dtype=np.float64)
    net.layers[1].set_unit_mask([1, 0, 1, 1])
    p = tmp_path / "model.safetensors"
    save_model(p, net, metadata={"classes": [0, 1, 2]})
    tensors = safetensors.numpy.load_file(str(p))
    assert set(tensors) == {
        "layers.0.W",
        "layers.0.b",
        "layers.1.W",
        "layers.1.b",
        "layers.2.W",
        "layers.2.b",
    }
    assert tensors["layers.0.W"].shape == (6, 5) and tensors["layers.0.b"].shape == (5,)
    assert tensors["layers.2.W"].shape == (4, 3)
    assert all(a.dtype == np.float64 for a in tensors.values())
    with safe_open(str(p), "np") as f:
        meta = f.metadata()
    assert meta["format"] == "neuronet-model" and meta["format_version"] == "2"
    assert json.loads(meta["network"]) == net.config()
    assert json.loads(meta["network"])["layers"][1]["unit_mask"] == [1, 0, 1, 1]
    assert json.loads(meta["user"]) == {"classes": [0, 1, 2]}


def test_user_metadata_round_trips_exactly(tmp_path):
    net, _ = _trained()
    meta = {
        "classes": ["cat", "dög", "🐟"],
        "history": {"loss": [0.1, 1e-300, 2.5e300, 1 / 3]},
        "nested": {"a": [1, {"b": None, "c": True}]},
        "big": 2**100,
        "n": np.int64(7),
        "x": np.float32(0.5),
    }
    p = tmp_path / "m.safetensors"
    save_model(p, net, metadata=meta)
    _, back = load_model(p)
    expected = {**meta, "n": 7, "x": 0.5}  # numpy scalars are stored as plain numbers
    assert back == expected
    assert back["history"]["loss"][3] == 1 / 3, "floats must round-trip exactly"


def test_lesion_masks_and_dropout_survive(tmp_path):
    net = mlp([4, 6, 3], hidden="relu", dropout=0.25, seed=0)
    net.layers[0].set_unit_mask([1, 1, 0, 1, 0, 1])
    p = tmp_path / "m.safetensors"
    save_model(p, net)
    net2, _ = load_model(p)
    assert net2.layers[0].dropout == 0.25
    assert np.array_equal(net2.layers[0].unit_mask, [1, 1, 0, 1, 0, 1])
    assert net2.layers[1].unit_mask is None
    X = np.random.default_rng(0).normal(size=(10, 4)).astype(np.float32)
    assert np.array_equal(net.predict(X), net2.predict(X))
    assert np.all(net2.activations(X)[0][:, [2, 4]] == 0), "lesioned units must stay silent after loading"


# -- refusing to save -------------------------------------------------------------------------------
def test_save_refuses_non_finite_weights_and_leaves_nothing(tmp_path):
    net = mlp([3, 4, 2], seed=0)
    net.params[2][1, 0] = np.nan
    p = tmp_path / "m.safetensors"
    with pytest.raises(ModelFileError, match=r"non-finite.*layers\.1\.W"):
        save_model(p, net)
    assert os.listdir(tmp_path) == []


def test_save_refuses_metadata_that_is_not_json(tmp_path):
    with pytest.raises(ModelFileError, match="not JSON-serialisable"):
        save_model(tmp_path / "m.safetensors", mlp([3, 2], seed=0), metadata={"f": object()})
    assert os.listdir(tmp_path) == []


def test_save_refuses_a_header_it_could_not_load_back(tmp_path):
    with pytest.raises(ModelFileError, match="more than the"):
        save_model(tmp_path / "m.safetensors", mlp([3, 2], seed=0), metadata={"x": "a" * MAX_HEADER_BYTES})
    assert os.listdir(tmp_path) == []


def test_save_into_a_missing_folder_is_a_one_line_model_file_error(tmp_path):
    p = tmp_path / "nope" / "m.safetensors"
    with pytest.raises(ModelFileError, match="cannot write"):
        save_model(p, mlp([3, 2], seed=0))


# -- hostile and broken files ------------------------------------------------------------------------
def _rewritten(blob, edit_header=None, edit_meta=None, edit_network=None, data=None, restamp=True):
    """The valid file with its header, metadata or network config edited (offsets kept).

    ``restamp`` writes the metadata checksum of the edited metadata, as the writer of such a file
    would, so each test reaches the check it is about; ``restamp=False`` leaves the old one.
    """
    header, tensor_data = _split(blob)
    meta = header["__metadata__"]
    if edit_network:
        cfg = json.loads(meta["network"])
        edit_network(cfg)
        meta["network"] = json.dumps(cfg)
    if edit_meta:
        edit_meta(meta)
    if restamp and METADATA_DIGEST_KEY in meta:
        meta[METADATA_DIGEST_KEY] = metadata_digest(meta)
    if edit_header:
        edit_header(header)
    return _craft(header, tensor_data if data is None else data)


def _set_w_shape(h, shape):
    h["layers.0.W"]["shape"] = shape


def _add_tensor(h):
    end = max(e["data_offsets"][1] for k, e in h.items() if k != "__metadata__")
    h["extra"] = {"dtype": "F32", "shape": [0], "data_offsets": [end, end]}


def _nan_in_first_weight(blob):
    header, data = _split(blob)
    s = header["layers.0.W"]["data_offsets"][0]
    data = data[:s] + np.float32(np.nan).tobytes() + data[s + 4 :]
    return _craft(header, data)


def _swap_offsets(h):
    h["layers.0.W"]["data_offsets"], h["layers.0.b"]["data_offsets"] = (
        h["layers.0.b"]["data_offsets"],
        h["layers.0.W"]["data_offsets"],
    )


def _pickle_payload(marker):
    class Payload:
        def __reduce__(self):
            return (open, (str(marker), "w"))

    return pickle.dumps({"state_dict": Payload()})


HOSTILE = {
    "empty": (lambda b, m: b"", ["empty file"]),
    "shorter than 8 bytes": (lambda b, m: b[:5], ["truncated file", "5 bytes"]),
    "header length beyond the file": (lambda b, m: (10_000).to_bytes(8, "little") + b[8:200], ["truncated file"]),
    "truncated tensor data": (lambda b, m: b[:-10], ["truncated file"]),
    "oversized header length": (
        lambda b, m: (MAX_HEADER_BYTES + 1).to_bytes(8, "little") + b[8:],
        ["oversized metadata/header"],
    ),
    "header is not JSON": (lambda b, m: _craft(b"{this is not json}"), ["header is not valid JSON"]),
    "header is a JSON array": (lambda b, m: _craft(b"[1, 2, 3]"), ["header is not a JSON object"]),
    "header not UTF-8": (lambda b, m: _craft(b'{"\xff\xfe": 1}'), ["not valid UTF-8"]),
    "duplicate keys": (lambda b, m: _craft(b'{"a": 1, "a": 2}'), ["duplicate key"]),
    "random bytes": (lambda b, m: np.random.default_rng(0).bytes(300), ["not a safetensors file"]),
    "pickle payload": (lambda b, m: _pickle_payload(m), ["not a safetensors file"]),
    "plain safetensors, no metadata": (
        lambda b, m: safetensors.numpy.save({"w": np.zeros(3, np.float32)}),
        ["not a neuronet model file"],
    ),
    "metadata values not strings": (
        lambda b, m: _rewritten(b, edit_header=lambda h: h["__metadata__"].update(format=1)),
        ["__metadata__ must map strings to strings"],
    ),
    "no format": (lambda b, m: _rewritten(b, edit_meta=lambda d: d.pop("format")), ["no 'format'"]),
    "wrong format": (
        lambda b, m: _rewritten(b, edit_meta=lambda d: d.update(format="gguf")),
        ["unknown format 'gguf'"],
    ),
    "a checkpoint": (
        lambda b, m: _rewritten(b, edit_meta=lambda d: d.update(format="neuronet-checkpoint")),
        ["is a neuronet checkpoint, not a model file"],
    ),
    "future format_version": (
        lambda b, m: _rewritten(b, edit_meta=lambda d: d.update(format_version="3")),
        ["unsupported format_version '3'"],
    ),
    "network config not JSON": (
        lambda b, m: _rewritten(b, edit_meta=lambda d: d.update(network="{layers: [")),
        ["network config is not valid JSON"],
    ),
    "network config not an object": (
        lambda b, m: _rewritten(b, edit_meta=lambda d: d.update(network="[]")),
        ["network config is not a JSON object"],
    ),
    "no layers": (lambda b, m: _rewritten(b, edit_network=lambda c: c.update(layers=[])), ["no layers"]),
    "unknown layer type": (
        lambda b, m: _rewritten(b, edit_network=lambda c: c["layers"][1].update(type="conv2d")),
        ["layer 1: unknown layer type 'conv2d'"],
    ),
    "unknown unit": (
        lambda b, m: _rewritten(b, edit_network=lambda c: c["layers"][0].update(unit={"name": "swish"})),
        ["layer 0: unknown unit 'swish'"],
    ),
    "bad unit parameter": (
        lambda b, m: _rewritten(
            b, edit_network=lambda c: c["layers"][0].update(unit={"name": "leaky-relu", "slope": 7})
        ),
        ["layer 0", "slope"],
    ),
    "unit parameter of the wrong type": (
        lambda b, m: _rewritten(b, edit_network=lambda c: c["layers"][0]["unit"].update(prime_offset="lots")),
        ["layer 0"],
    ),
    "unknown loss": (
        lambda b, m: _rewritten(b, edit_network=lambda c: c.update(loss={"name": "hinge"})),
        ["unknown loss 'hinge'"],
    ),
    "loss that does not fit the output unit": (
        lambda b, m: _rewritten(b, edit_network=lambda c: c.update(loss={"name": "logistic"})),
        ["logistic"],
    ),
    "unsupported dtype": (
        lambda b, m: _rewritten(b, edit_network=lambda c: c.update(dtype="float16")),
        ["unsupported dtype 'float16'"],
    ),
    "size not an integer": (
        lambda b, m: _rewritten(b, edit_network=lambda c: c["layers"][0].update(n_in="3")),
        ["n_in must be a positive integer"],
    ),
    "negative size": (
        lambda b, m: _rewritten(b, edit_network=lambda c: c["layers"][0].update(n_out=-4)),
        ["n_out must be a positive integer"],
    ),
    "dropout out of range": (
        lambda b, m: _rewritten(b, edit_network=lambda c: c["layers"][0].update(dropout=1.5)),
        ["dropout must be a number in [0, 1)"],
    ),
    "sizes that do not chain": (
        lambda b, m: _rewritten(b, edit_network=lambda c: c["layers"][1].update(n_in=5)),
        ["layer sizes do not chain"],
    ),
    "missing tensor": (
        lambda b, m: _rewritten(b, edit_header=lambda h: h.pop("layers.1.b")),
        ["missing tensor 'layers.1.b'"],
    ),
    "extra tensor": (lambda b, m: _rewritten(b, edit_header=_add_tensor), ["unexpected tensor 'extra'"]),
    "wrong shape": (
        lambda b, m: _rewritten(b, edit_header=lambda h: _set_w_shape(h, [4, 3])),
        ["'layers.0.W' has shape (4, 3), expected (3, 4)"],
    ),
    "wrong dtype": (
        lambda b, m: _rewritten(b, edit_header=lambda h: h["layers.0.b"].update(dtype="F64")),
        ["'layers.0.b' has dtype F64, expected F32"],
    ),
    "integer dtype": (
        lambda b, m: _rewritten(b, edit_header=lambda h: h["layers.0.b"].update(dtype="I32")),
        ["'layers.0.b' has dtype I32"],
    ),
    "malformed tensor entry": (
        lambda b, m: _rewritten(b, edit_header=lambda h: h["layers.0.b"].pop("shape")),
        ["malformed entry"],
    ),
    "NaN weight": (lambda b, m: _nan_in_first_weight(b), ["non-finite", "layers.0.W"]),
    "offsets that do not match the shapes": (
        lambda b, m: _rewritten(b, edit_header=_swap_offsets),
        ["corrupt tensor data"],
    ),
    "bytes after the data": (lambda b, m: b + b"\0" * 16, ["16 unexpected bytes after the tensor data"]),
    "user metadata not an object": (
        lambda b, m: _rewritten(b, edit_meta=lambda d: d.update(user="[1]")),
        ["user metadata is not a JSON object"],
    ),
    "user metadata nested absurdly deep": (
        lambda b, m: _rewritten(b, edit_meta=lambda d: d.update(user="[" * 10**5)),
        ["user metadata is not valid JSON"],
    ),
}


@pytest.mark.parametrize("case", list(HOSTILE))
def test_each_hostile_file_gives_a_one_line_error_naming_the_problem(tmp_path, small_model_bytes, case):
    make, fragments = HOSTILE[case]
    marker = tmp_path / "pwned"
    p = tmp_path / "model.safetensors"
    p.write_bytes(make(small_model_bytes, marker))
    _expect_error(p, *fragments)
    assert not marker.exists(), "no code from the file may run"


def test_hand_crafted_copy_of_a_valid_file_loads(tmp_path, small_model_bytes):
    # The control for the cases above: rebuilding the file by hand (no alignment padding) still loads,
    # so each failure above is caused by its own defect.
    p = tmp_path / "model.safetensors"
    p.write_bytes(_rewritten(small_model_bytes))
    net, meta = load_model(p)
    assert meta == {"classes": ["a", "b"]} and net.n_inputs == 3


def test_unit_mask_must_be_zeros_and_ones(tmp_path):
    net = mlp([3, 4, 2], seed=0)
    net.layers[0].set_unit_mask([1, 0, 1, 1])
    p = tmp_path / "m.safetensors"
    save_model(p, net)
    header, data = _split(p.read_bytes())
    cfg = json.loads(header["__metadata__"]["network"])
    cfg["layers"][0]["unit_mask"] = [1, 0.5, 1, 1]
    header["__metadata__"]["network"] = json.dumps(cfg)
    p.write_bytes(_craft(header, data))
    _expect_error(p, "unit_mask must be 0/1 values")


def test_dale_signs_are_checked_against_the_weights(tmp_path):
    net = mlp([3, 4, 2], hidden="relu", dale=0.5, seed=0)
    p = tmp_path / "m.safetensors"
    save_model(p, net)
    header, data = _split(p.read_bytes())
    cfg = json.loads(header["__metadata__"]["network"])
    cfg["layers"][1]["dale_signs"] = [-s for s in cfg["layers"][1]["dale_signs"]]  # every weight now breaks its sign
    header["__metadata__"]["network"] = json.dumps(cfg)
    p.write_bytes(_craft(header, data))
    _expect_error(p, "violate their Dale signs")


def test_format_1_files_with_masks_and_signs_as_tensors_still_load():
    # written by neuronet 0.1.0 (format_version 1): mlp([4, 5, 3], hidden="relu", dale=0.6, seed=3) with
    # units 1 and 4 of layer 0 silenced; the expected outputs were computed by that version
    path = Path(__file__).parent / "data" / "legacy_v1_lesioned_dale.safetensors"
    net, meta = load_model(path)
    assert meta["note"].endswith("format_version 1")
    assert net.layers[0].unit_mask.tolist() == [1, 0, 1, 1, 0]
    assert net.layers[1].dale_signs is not None and sorted(set(net.layers[1].dale_signs.tolist())) == [-1, 1]
    X = np.random.default_rng(0).normal(size=(6, 4)).astype(np.float32)
    expected = [
        [0.31370616, 0.3580603, 0.32823357],
        [0.33389217, 0.3336568, 0.33245105],
        [0.3870909, 0.3461214, 0.26678777],
        [0.36644134, 0.35119566, 0.28236303],
        [0.35980174, 0.34783074, 0.29236746],
        [0.33333334, 0.33333334, 0.33333334],
    ]
    np.testing.assert_allclose(net.predict(X), expected, rtol=1e-6)


def test_missing_file_and_directory(tmp_path):
    _expect_error(tmp_path / "absent.safetensors", "no such file")
    _expect_error(tmp_path, "is a directory")


def test_load_checkpoint_refuses_a_model_file_and_vice_versa(tmp_path, small_model_bytes):
    p = tmp_path / "m.safetensors"
    p.write_bytes(small_model_bytes)
    with pytest.raises(ModelFileError, match="is a neuronet model file, not a checkpoint"):
        load_checkpoint(p)


# -- atomic writes ----------------------------------------------------------------------------------
@pytest.mark.parametrize("failing", ["replace", "fsync", "write"])
def test_a_failed_save_leaves_the_previous_file_and_no_temp_files(tmp_path, monkeypatch, failing):
    p = tmp_path / "model.safetensors"
    save_model(p, mlp([3, 4, 2], seed=0), metadata={"v": 1})
    before = p.read_bytes()

    def boom(*a, **k):
        raise KeyboardInterrupt if failing == "write" else OSError(28, "No space left on device")

    if failing == "write":  # an interrupt in the middle of writing the bytes

        def half(f, data):
            f.write(data[: len(data) // 2])
            boom()

        break_temp_file_writes(monkeypatch, half)
    else:
        monkeypatch.setattr(os, failing, boom)
    with pytest.raises((ModelFileError, KeyboardInterrupt)) as info:
        save_model(p, mlp([3, 4, 2], seed=1), metadata={"v": 2})
    monkeypatch.undo()
    if failing != "write":
        assert "No space left on device" in str(info.value)
    assert p.read_bytes() == before, "the previous file must be untouched"
    assert os.listdir(tmp_path) == ["model.safetensors"], "no temporary file may remain"
    assert load_model(p)[1] == {"v": 1}


def test_atomic_write_replaces_content_and_keeps_the_mode(tmp_path):
    p = tmp_path / "f.bin"
    atomic_write_bytes(p, b"first")
    umask = os.umask(0o022)
    os.umask(umask)
    assert stat.S_IMODE(os.stat(p).st_mode) == 0o666 & ~umask, "a new file gets the usual mode, not mkstemp's 0600"
    os.chmod(p, 0o640)
    atomic_write_bytes(p, b"second")
    assert p.read_bytes() == b"second"
    assert stat.S_IMODE(os.stat(p).st_mode) == 0o640, "replacing a file keeps its mode"
    assert os.listdir(tmp_path) == ["f.bin"]


def test_killing_the_writer_never_leaves_a_half_written_model(tmp_path):
    # A child process saves two different models in a loop; it is killed (SIGKILL) at random moments.
    # Whatever moment it dies, the target must hold one complete model or the other.
    p = tmp_path / "model.safetensors"
    script = textwrap.dedent(f"""
        import sys
        from neuronet import mlp
        from neuronet.modelfile import save_model
        nets = [mlp([300, 200, 10], seed=s) for s in (0, 1)]
        save_model({str(p)!r}, nets[0])
        print("ready", flush=True)
        i = 0
        while True:
            i += 1
            save_model({str(p)!r}, nets[i % 2], metadata={{"i": i}})
    """)
    rng = np.random.default_rng(0)
    for _ in range(3):
        child = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE)
        try:
            assert child.stdout.readline().strip() == b"ready"
            time.sleep(float(rng.uniform(0.05, 0.3)))
        finally:
            child.kill()
            child.wait()
        net, _ = load_model(p)  # raises if the file were half-written
        assert net.layers[0].W.shape == (300, 200)


# -- config hash ------------------------------------------------------------------------------------
def test_config_hash_is_sha256_of_canonical_json():
    cfg = {"seed": 0, "optimizer": "sgd", "lr": 0.1, "hidden": [128, 64]}
    golden = "d6709a3edbeda517f3ad3bbec27678c53cb516a5c0468ff071a4a940afc094ea"
    assert config_hash(cfg) == golden, "the hash must stay stable across versions (old checkpoints resume)"
    assert golden == hashlib.sha256(b'{"hidden":[128,64],"lr":0.1,"optimizer":"sgd","seed":0}').hexdigest()
    assert config_hash(dict(reversed(list(cfg.items())))) == golden, "key order must not matter"
    assert config_hash({**cfg, "lr": 0.2}) != golden


# -- inspect --------------------------------------------------------------------------------------
def test_inspect_model_summarises_the_file(tmp_path):
    net = mlp([6, 5, 3], hidden={"name": "sigmoid", "prime_offset": 0.1}, dropout=0.2, dtype=np.float64, seed=0)
    net.layers[0].set_unit_mask([1, 0, 0, 1, 1])
    p = tmp_path / "m.safetensors"
    save_model(p, net, metadata={"classes": [0, 1, 2], "config": {}})
    info = inspect_model(p)
    assert info["format"] == "neuronet-model" and info["format_version"] == "2"
    assert info["dtype"] == "float64" and info["loss"] == "cross-entropy"
    assert info["n_parameters"] == 6 * 5 + 5 + 5 * 3 + 3
    assert info["layers"][0] == {
        "n_in": 6,
        "n_out": 5,
        "unit": "sigmoid",
        "unit_params": {"prime_offset": 0.1},
        "dropout": 0.2,
        "lesioned": 2,
    }
    assert info["layers"][1]["unit"] == "softmax" and info["layers"][1]["dropout"] == 0.0
    assert info["metadata_keys"] == ["classes", "config"]
    assert info["file_size"] == p.stat().st_size


def test_inspect_model_validates_the_file(tmp_path):
    p = tmp_path / "m.safetensors"
    p.write_bytes(b"\x00" * 3)
    with pytest.raises(ModelFileError, match="truncated"):
        inspect_model(p)


# -- checkpoints ------------------------------------------------------------------------------------
OPTIMIZERS = {
    "momentum": {"lr": 0.05},
    "adam": {"lr": 0.01},
    "quickprop": {"lr": 0.05},
    "sgd": {"lr": 0.1},
    "nesterov": {"lr": 0.05},
}


def _trainer(opt, epochs, seed=0, dtype=np.float32, shuffle=True):
    net = mlp([6, 8, 3], hidden="tanh", dropout=0.2, dtype=dtype, seed=seed)  # dropout: the rng matters
    return Trainer(net, opt, epochs=epochs, batch_size=16, seed=seed, probe_size=32, shuffle=shuffle, **OPTIMIZERS[opt])


@pytest.mark.parametrize("opt", list(OPTIMIZERS))
def test_checkpoint_round_trips_every_array_and_the_rng_exactly(tmp_path, opt):
    X, y = _data()
    tr = _trainer(opt, 2)
    tr.fit(X, y)
    state = tr.state_dict()
    p = tmp_path / "ck.safetensors"
    cfg = {"optimizer": opt, "hidden": [8]}
    save_checkpoint(p, tr.network, state, config_hash=config_hash(cfg), config=cfg)
    ck = load_checkpoint(p)
    assert ck["config_hash"] == config_hash(cfg) and ck["config"] == cfg
    back = ck["trainer_state"]
    assert back["epoch"] == 2
    assert back["rng"] == state["rng"], "the rng state (128-bit ints included) must survive exactly"
    assert back["optimizer"]["config"] == state["optimizer"]["config"]
    assert back["optimizer"]["iterations"] == state["optimizer"]["iterations"] > 0
    assert set(back["optimizer"]["arrays"]) == set(state["optimizer"]["arrays"])
    if opt != "sgd":
        assert back["optimizer"]["arrays"], f"{opt} keeps per-parameter state"
    for k, a in state["optimizer"]["arrays"].items():
        b = back["optimizer"]["arrays"][k]
        assert b.dtype == a.dtype and np.array_equal(a, b), f"optimizer array {k} must round-trip bit for bit"
        assert b.flags.writeable
    assert back["history"] == state["history"]
    for a, b in zip(tr.network.params, ck["network"].params):
        assert np.array_equal(a, b)


@pytest.mark.parametrize("shuffle", [False, True])
@pytest.mark.parametrize("opt", ["momentum", "adam", "quickprop"])
def test_training_resumed_from_a_checkpoint_ends_with_identical_weights(tmp_path, opt, shuffle):
    X, y = _data()
    straight = _trainer(opt, 4, shuffle=shuffle)
    straight.fit(X, y)

    first = _trainer(opt, 2, shuffle=shuffle)
    first.fit(X, y)
    p = tmp_path / "ck.safetensors"
    save_checkpoint(p, first.network, first.state_dict(), config_hash="h")
    del first
    ck = load_checkpoint(p)
    resumed = _trainer(opt, 4, seed=0, shuffle=shuffle)
    resumed.network.set_weights(ck["network"].get_weights())
    resumed.load_state_dict(ck["trainer_state"])
    assert resumed.epoch == 2
    resumed.fit(X, y)

    for i, (a, b) in enumerate(zip(straight.network.params, resumed.network.params)):
        assert np.array_equal(a, b), f"parameter {i} differs between the uninterrupted and the resumed run"
    assert resumed.history["loss"] == straight.history["loss"]
    assert resumed.history.epoch == [0, 1, 2, 3]


def test_checkpoint_of_a_float64_network_keeps_float64_state(tmp_path):
    X, y = _data(dtype=np.float64)
    tr = _trainer("adam", 1, dtype=np.float64)
    tr.fit(X, y)
    p = tmp_path / "ck.safetensors"
    save_checkpoint(p, tr.network, tr.state_dict(), config_hash="h")
    ck = load_checkpoint(p)
    assert ck["config"] is None
    assert ck["network"].dtype == np.float64
    assert all(a.dtype == np.float64 for a in ck["trainer_state"]["optimizer"]["arrays"].values())


def _checkpoint_bytes(tmp_path, opt="adam"):
    X, y = _data(n=40)
    tr = _trainer(opt, 1)
    tr.fit(X, y)
    p = tmp_path / "ck.safetensors"
    save_checkpoint(p, tr.network, tr.state_dict(), config_hash="h")
    return p, p.read_bytes()


def _edit_trainer(blob, edit):
    header, data = _split(blob)
    t = json.loads(header["__metadata__"]["trainer"])
    edit(t)
    header["__metadata__"]["trainer"] = json.dumps(t)
    return _craft(header, data)


CHECKPOINT_HOSTILE = {
    "unknown optimizer": (lambda t: t["optimizer"]["config"].update(name="lbfgs"), "unknown optimizer 'lbfgs'"),
    "bad rng state": (lambda t: t["rng"]["state"].update(state="zero"), "invalid rng state"),
    "unknown bit generator": (lambda t: t["rng"].update(bit_generator="Mersenne"), "rng state must name"),
    "negative epoch": (lambda t: t.update(epoch=-1), "epoch must be an integer >= 0"),
    "history not a dict": (lambda t: t.update(history=[]), "training history"),
    "array of another optimizer": (
        lambda t: t["optimizer"]["arrays"].append("velocity.0"),
        "'velocity.0' is not a state of 'adam'",
    ),
    "array listed but absent": (lambda t: t["optimizer"]["arrays"].remove("m.3"), "incomplete"),
}


@pytest.mark.parametrize("case", list(CHECKPOINT_HOSTILE))
def test_hostile_checkpoints_are_refused(tmp_path, case):
    edit, fragment = CHECKPOINT_HOSTILE[case]
    p, blob = _checkpoint_bytes(tmp_path)
    p.write_bytes(_edit_trainer(blob, edit))
    with pytest.raises(ModelFileError) as info:
        load_checkpoint(p)
    assert str(info.value).startswith(f"{p}: ") and fragment in str(info.value), str(info.value)


def test_checkpoint_optimizer_tensor_of_the_wrong_shape_is_refused(tmp_path):
    p, blob = _checkpoint_bytes(tmp_path)
    header, data = _split(blob)
    header["optimizer.m.0"]["shape"] = header["optimizer.m.0"]["shape"][::-1]
    p.write_bytes(_craft(header, data))
    with pytest.raises(ModelFileError, match=r"'optimizer\.m\.0' has shape \(8, 6\), expected \(6, 8\)"):
        load_checkpoint(p)


def test_save_checkpoint_refuses_non_finite_optimizer_state(tmp_path):
    X, y = _data(n=40)
    tr = _trainer("momentum", 1)
    tr.fit(X, y)
    state = tr.state_dict()
    state["optimizer"]["arrays"]["velocity.1"][0] = np.inf
    with pytest.raises(ModelFileError, match="non-finite optimizer state"):
        save_checkpoint(tmp_path / "ck.safetensors", tr.network, state, config_hash="h")
    assert os.listdir(tmp_path) == []


def test_inspect_model_reads_checkpoints_too(tmp_path):
    p, _ = _checkpoint_bytes(tmp_path)
    info = inspect_model(p)
    assert info["format"] == "neuronet-checkpoint" and info["epoch"] == 1
    assert info["optimizer"]["name"] == "adam" and info["config_hash"] == "h"


def test_save_checkpoint_refuses_state_that_could_not_be_resumed(tmp_path):
    X, y = _data(n=40)
    tr = _trainer("adam", 1)
    tr.fit(X, y)
    state = tr.state_dict()
    state["optimizer"]["config"]["name"] = "my-own-adam"  # not in the optimizer registry
    with pytest.raises(ModelFileError, match=r"cannot save: optimizer config: unknown optimizer 'my-own-adam'"):
        save_checkpoint(tmp_path / "ck.safetensors", tr.network, state, config_hash="h")
    assert os.listdir(tmp_path) == []


# -- a full disk ------------------------------------------------------------------------------------
def test_a_full_disk_names_the_file_being_written_and_leaves_no_part_of_it(tmp_path, full_disk):
    from neuronet.files import write_json_atomic, write_text_atomic

    for write, target in [
        (lambda p: write_json_atomic(p, {"a": 1}), tmp_path / "results.json"),
        (lambda p: write_text_atomic(p, "text"), tmp_path / "report.html"),
    ]:
        with pytest.raises(OSError, match="No space left on device") as info:
            write(target)
        assert info.value.filename == str(target), f"the error must name {target}"
    target = tmp_path / "model.safetensors"
    with pytest.raises(ModelFileError, match=rf"^{target}: cannot write the file: No space left on device$"):
        save_model(target, mlp([3, 4, 2], seed=0))
    assert os.listdir(tmp_path) == [], "no partial or temporary file may remain"


# -- the tensors' checksum --------------------------------------------------------------------------
def _flip_a_weight_bit(blob, tensor="layers.0.W", bit=0):
    """The file with the lowest mantissa bit of the first element of ``tensor`` flipped: still finite."""
    header, data = _split(blob)
    start = header[tensor]["data_offsets"][0]
    data = bytearray(data)
    data[start] ^= 1 << bit
    return _craft(header, bytes(data))


def test_saved_files_carry_a_sha256_of_their_tensors(tmp_path):
    net = mlp([3, 4, 2], seed=0)
    p = tmp_path / "m.safetensors"
    save_model(p, net)
    header, _ = _split(p.read_bytes())
    with safe_open(str(p), framework="numpy") as f:
        raw = b"".join(f.get_tensor(name).astype("<f4").tobytes() for name in sorted(f.keys()))
    assert header["__metadata__"]["tensors_sha256"] == hashlib.sha256(raw).hexdigest()


def test_a_flipped_bit_in_the_weights_is_detected(tmp_path, small_model_bytes):
    p = tmp_path / "model.safetensors"
    p.write_bytes(_flip_a_weight_bit(small_model_bytes))
    _expect_error(p, "weights do not match the checksum", "tensors_sha256")
    with pytest.raises(ModelFileError, match="checksum"):
        inspect_model(p)


def test_a_flipped_bit_in_a_checkpoint_is_detected(tmp_path):
    p, _ = _checkpoint_bytes(tmp_path)
    p.write_bytes(_flip_a_weight_bit(p.read_bytes(), "layers.1.b", bit=3))
    with pytest.raises(ModelFileError, match=rf"^{p}: corrupt tensor data: the weights do not match the checksum"):
        load_checkpoint(p)


def test_edited_metadata_is_detected_by_its_checksum(tmp_path, small_model_bytes):
    def edit(meta):  # one digit of the stored class list, still valid JSON of the right shape
        meta["user"] = meta["user"].replace('"a"', '"c"')

    p = tmp_path / "model.safetensors"
    p.write_bytes(_rewritten(small_model_bytes, edit_meta=edit, restamp=False))
    _expect_error(p, "corrupt or edited metadata", "metadata_sha256")
    restamped = tmp_path / "restamped.safetensors"
    restamped.write_bytes(_rewritten(small_model_bytes, edit_meta=edit))
    assert load_model(restamped)[1]["classes"] == ["c", "b"], "the control: the same edit, checksum updated"


def test_a_malformed_checksum_is_refused(tmp_path, small_model_bytes):
    p = tmp_path / "model.safetensors"
    p.write_bytes(_rewritten(small_model_bytes, edit_meta=lambda d: d.update(tensors_sha256="abc")))
    _expect_error(p, "tensors_sha256 is not a SHA-256 hex digest")


@pytest.mark.parametrize("name", sorted(p.name for p in (Path(__file__).parent / "data").glob("legacy_*")))
def test_files_without_a_checksum_still_load(name):
    path = Path(__file__).parent / "data" / name
    header, _ = _split(path.read_bytes())
    assert "tensors_sha256" not in header["__metadata__"], "the legacy files predate checksums"
    net, _ = load_model(path)
    assert inspect_model(path)["checksum"] == "none" and net.n_outputs >= 1


# -- the metadata neuronet reads --------------------------------------------------------------------
def _with_user(blob, **changes):
    """The valid small model (3 inputs, 2 softmax outputs) with user metadata keys set."""

    def edit(meta):
        meta["user"] = json.dumps({**json.loads(meta["user"]), **changes})

    return _rewritten(blob, edit_meta=edit)


TRAIN_META = {
    "task": "classification",
    "classes": [0, 1],
    "preprocessing": {"mean": [0.0, 1.0, 2.0], "std": [1.0, 2.0, 0.5]},
    "target_range": None,
    "n_features": 3,
    "config": {"hidden": [4]},
    "test": {"loss": 0.5, "accuracy": None},
    "epochs_trained": 3,
    "stop_reason": "completed 3 epochs",
    "versions": {"neuronet": "0"},
}

HOSTILE_METADATA = {
    "duplicate classes": ({"classes": [0, 0]}, ["metadata classes: label 0 appears twice"]),
    "a dict as a class": ({"classes": [{"a": 1}, 1]}, ["metadata classes: label {'a': 1} is not a string"]),
    "classes not a list": ({"classes": "ab"}, ["metadata classes: expected a list"]),
    "one class": ({"classes": ["a"]}, ["a classifier needs a list of at least 2 classes, got 1"]),
    "more classes than outputs": ({"classes": [0, 1, 2]}, ["3 classes for a network with 2 outputs"]),
    "unknown task": ({"task": "ranking"}, ["metadata task: 'ranking' is not a task"]),
    "regression with a softmax output": ({"task": "regression", "classes": []}, ["'regression' does not fit"]),
    "std of zero": (
        {"preprocessing": {"mean": [0, 0, 0], "std": [1, 0, 1]}},
        ["metadata preprocessing.std: entry 1 is 0; a standard deviation must be > 0"],
    ),
    "std of NaN": (
        {"preprocessing": {"mean": [0, 0, 0], "std": [1, 1, float("nan")]}},
        ["metadata preprocessing.std: entry 2 is nan, not a finite number"],
    ),
    "std that overflows float32": (
        {"preprocessing": {"mean": [0, 0, 0], "std": [1e300, 1, 1]}},
        ["preprocessing.std: entry 0 is 1e+300, too large for float32"],
    ),
    "std missing": ({"preprocessing": {"mean": [0, 0, 0]}}, ["metadata preprocessing: lacks std"]),
    "a misspelt key": (
        {"preprocessing": {"mean": [0, 0, 0], "sd": [1, 1, 1]}},
        ["metadata preprocessing: lacks std"],
    ),
    "mean of the wrong length": (
        {"preprocessing": {"mean": [0, 0], "std": [1, 1, 1]}},
        ["metadata preprocessing.mean: expected 3 numbers"],
    ),
    "mean of strings": (
        {"preprocessing": {"mean": ["0", 0, 0], "std": [1, 1, 1]}},
        ["preprocessing.mean: entry 0 is '0', not a finite number"],
    ),
    "reversed target range": ({"target_range": [1, 0]}, ["metadata target_range: expected [low, high]"]),
    "n_features of another network": ({"n_features": 4}, ["metadata n_features: 4, but the network has 3 inputs"]),
    "config not an object": ({"config": [1]}, ["metadata config: expected a JSON object"]),
    "seed not an integer": ({"config": {"seed": "abc"}}, ["metadata config: seed: expected an integer >= 0"]),
    "negative seed": ({"config": {"seed": -5}}, ["metadata config: seed: expected an integer >= 0, got -5"]),
    "a class beyond int64": ({"classes": [10**30, 2]}, ["metadata classes: label", "does not fit a 64-bit integer"]),
    "test results not numbers": ({"test": {"loss": "low"}}, ["metadata test: expected a JSON object of numbers"]),
    "huge integer in the mean": (
        {"preprocessing": {"mean": [10**400, 0, 0], "std": [1, 1, 1]}},
        ["preprocessing.mean: entry 0"],
    ),
}


@pytest.mark.parametrize("case", list(HOSTILE_METADATA))
def test_metadata_neuronet_reads_is_checked_against_the_network(tmp_path, small_model_bytes, case):
    changes, fragments = HOSTILE_METADATA[case]
    p = tmp_path / "model.safetensors"
    p.write_bytes(_with_user(small_model_bytes, **{**TRAIN_META, **changes}))
    _expect_error(p, *fragments)


def test_the_metadata_control_loads(tmp_path, small_model_bytes):
    # the control for the cases above: the same metadata without their defect loads
    p = tmp_path / "model.safetensors"
    p.write_bytes(_with_user(small_model_bytes, **TRAIN_META))
    assert load_model(p)[1] == TRAIN_META


def test_two_classes_fit_a_single_sigmoid_output(tmp_path):
    p = tmp_path / "m.safetensors"
    save_model(p, mlp([3, 4, 1], output="sigmoid", seed=0), metadata={"task": "classification", "classes": ["n", "y"]})
    assert load_model(p)[1]["classes"] == ["n", "y"]


# -- inspect and load share their checks and caps ---------------------------------------------------
@pytest.mark.parametrize("declared", [MAX_HEADER_BYTES + 1, 2 * MAX_HEADER_BYTES, 70 << 20, 1 << 40])
def test_inspect_and_load_model_refuse_an_oversized_header_alike(tmp_path, small_model_bytes, declared):
    p = tmp_path / "model.safetensors"
    p.write_bytes(declared.to_bytes(8, "little") + small_model_bytes[8:])
    with pytest.raises(ModelFileError) as loaded:
        load_model(p)
    with pytest.raises(ModelFileError) as inspected:
        inspect_model(p)
    assert str(inspected.value) == str(loaded.value), "inspect and evaluate must say the same about one file"
    assert f"more than the {MAX_HEADER_BYTES} allowed" in str(loaded.value)


def test_inspect_model_reports_the_training_config_and_results(tmp_path, small_model_bytes):
    p = tmp_path / "model.safetensors"
    p.write_bytes(_with_user(small_model_bytes, **TRAIN_META))
    info = inspect_model(p)
    assert info["config"] == {"hidden": [4]} and info["test"] == {"loss": 0.5, "accuracy": None}
    assert info["task"] == "classification" and info["classes"] == [0, 1] and info["standardized"] is True
    assert info["epochs_trained"] == 3 and info["stop_reason"] == "completed 3 epochs"


def test_inspect_json_is_strict_json_when_a_result_is_not_finite(tmp_path, small_model_bytes):
    from typer.testing import CliRunner

    from neuronet.cli import app

    p = tmp_path / "model.safetensors"
    p.write_bytes(_with_user(small_model_bytes, **{**TRAIN_META, "test": {"loss": float("nan"), "accuracy": 0.5}}))
    r = CliRunner().invoke(app, ["inspect", str(p), "--json"])
    assert r.exit_code == 0, r.output

    def refuse(token):
        raise ValueError(f"not strict JSON: {token}")

    info = json.loads(r.stdout, parse_constant=refuse)
    assert info["test"] == {"loss": None, "accuracy": 0.5}


@pytest.mark.parametrize(
    "edit,fragment",
    [
        (lambda h: h.update(diagnostics=[1, 2]), "each epoch's diagnostics must be null or a list of per-layer"),
        (lambda h: h["history"].update(loss=["x", "y"]), "training history: 'loss' must list numbers"),
        (lambda h: h.update(epoch=[0, -1]), "training history: epoch must list integers >= 0"),
    ],
)
def test_checkpoint_with_a_malformed_history_is_refused_on_load(tmp_path, edit, fragment):
    X, y = _data()
    tr = _trainer("momentum", 2)
    tr.fit(X, y)
    state = tr.state_dict()
    p = tmp_path / "ck.safetensors"
    save_checkpoint(p, tr.network, state, config_hash="h")
    load_checkpoint(p)  # the control loads

    def tamper(meta):
        trainer = json.loads(meta["trainer"])
        edit(trainer["history"])
        meta["trainer"] = json.dumps(trainer)

    p.write_bytes(_rewritten(p.read_bytes(), edit_meta=tamper))  # restamped: only the history check can refuse
    with pytest.raises(ModelFileError, match=re.escape(fragment)):
        load_checkpoint(p)
    edit(state["history"])
    with pytest.raises(ModelFileError, match=re.escape(fragment)):
        save_checkpoint(tmp_path / "new.safetensors", tr.network, state, config_hash="h")  # nor is it written


def test_save_refuses_metadata_its_loader_would_refuse(tmp_path):
    net = mlp([3, 4, 2], seed=0)
    p = tmp_path / "m.safetensors"
    with pytest.raises(ModelFileError, match="metadata classes: label .* does not fit a 64-bit integer"):
        save_model(p, net, metadata={"task": "classification", "classes": [2**63, 1]})
    assert not p.exists()
