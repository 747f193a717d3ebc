"""Fuzzing the loaders: for any bytes at all, the outcome is a valid network or a ModelFileError.

Never another exception type, never a hang, never an allocation beyond the file's size.
"""

import json

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from neuronet import Trainer, mlp
from neuronet.errors import ModelFileError
from neuronet.modelfile import load_checkpoint, load_model, save_checkpoint, save_model

FUZZ = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    return tmp_path_factory.mktemp("fuzz")


@pytest.fixture(scope="module")
def model_bytes(folder):
    net = mlp([3, 4, 2], hidden={"name": "sigmoid", "prime_offset": 0.1}, output="softmax", dropout=0.1, seed=0)
    net.layers[0].set_unit_mask([1, 0, 1, 1])
    p = folder / "valid.safetensors"
    save_model(p, net, metadata={"classes": [0, 1], "note": "fuzz"})
    return p.read_bytes()


@pytest.fixture(scope="module")
def checkpoint_bytes(folder):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(20, 3)).astype(np.float32)
    y = (X[:, 0] > 0).astype(np.int64)
    net = mlp([3, 4, 2], hidden="tanh", seed=0)
    tr = Trainer(net, "adam", lr=0.01, epochs=1, batch_size=8, diagnostics=False)
    tr.fit(X, y)
    p = folder / "valid-ck.safetensors"
    save_checkpoint(p, net, tr.state_dict(), config_hash="h", config={"a": 1})
    return p.read_bytes()


def _outcome(folder, blob, loader=load_model):
    """Load ``blob``; return the result or None for a ModelFileError.  Anything else propagates."""
    p = folder / "fuzzed.safetensors"
    p.write_bytes(blob)
    try:
        result = loader(p)
    except ModelFileError as e:
        msg = str(e)
        assert msg.startswith(f"{p}: ") and "\n" not in msg, f"not a one-line message naming the file: {msg!r}"
        return None
    net = result[0] if loader is load_model else result["network"]
    assert all(np.isfinite(w).all() for w in net.params), "a successful load has finite weights"
    return result


def _flip(blob, edits):
    b = bytearray(blob)
    for i, v in edits:
        b[i % len(b)] = v
    return bytes(b)


@FUZZ
@given(blob=st.binary(max_size=2048))
def test_random_bytes(folder, blob):
    assert _outcome(folder, blob) is None, "random bytes cannot be a neuronet model"


@FUZZ
@given(edits=st.lists(st.tuples(st.integers(0, 10**6), st.integers(0, 255)), min_size=1, max_size=8))
def test_flipped_bytes(folder, model_bytes, edits):
    _outcome(folder, _flip(model_bytes, edits))


@FUZZ
@given(data=st.data())
def test_flipped_bytes_in_the_header(folder, model_bytes, data):
    # Most bytes of a small model are header; aim at it explicitly too, one character at a time.
    n = int.from_bytes(model_bytes[:8], "little")
    i = data.draw(st.integers(8, 8 + n - 1))
    c = data.draw(st.sampled_from(b'{}[]",:0123456789.-eE \\tnulfasr' + bytes([0, 0xFF])))
    _outcome(folder, _flip(model_bytes, [(i, c)]))


@FUZZ
@given(cut=st.integers(0, 10**6))
def test_truncated(folder, model_bytes, cut):
    cut %= len(model_bytes)
    assert _outcome(folder, model_bytes[:cut]) is None, f"a file cut to {cut} bytes must be refused"


@FUZZ
@given(tail=st.binary(min_size=1, max_size=256))
def test_appended(folder, model_bytes, tail):
    assert _outcome(folder, model_bytes + tail) is None, "trailing bytes after the tensor data must be refused"


@FUZZ
@given(length=st.one_of(st.integers(0, 2**64 - 1), st.integers(-64, 64)))
def test_changed_header_length(folder, model_bytes, length):
    n = int.from_bytes(model_bytes[:8], "little")
    new = length if length >= 0 and length > 64 else max(0, n + length)
    blob = new.to_bytes(8, "little") + model_bytes[8:]
    result = _outcome(folder, blob)
    assert result is None or new == n, "only the true header length can load"


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.floats(allow_nan=True) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=4),
    max_leaves=12,
)


def _paths(obj, prefix=()):
    """Every path to a value inside nested dicts and lists."""
    yield prefix
    if isinstance(obj, dict):
        for k, v in obj.items():
            yield from _paths(v, prefix + (k,))
    elif isinstance(obj, list):
        for i, v in enumerate(obj):
            yield from _paths(v, prefix + (i,))


def _replace(obj, path, value):
    if not path:
        return value
    obj[path[0]] = _replace(obj[path[0]], path[1:], value)
    return obj


@FUZZ
@given(data=st.data())
def test_valid_json_with_hostile_values(folder, model_bytes, data):
    # Replace any one value of the header (tensor table, metadata, or the network config inside it)
    # with arbitrary JSON: the file stays well-formed JSON, so every schema check gets exercised.
    n = int.from_bytes(model_bytes[:8], "little")
    header = json.loads(model_bytes[8 : 8 + n])
    cfg = json.loads(header["__metadata__"]["network"])
    value = data.draw(json_values)
    if data.draw(st.booleans()):
        path = data.draw(st.sampled_from(list(_paths(cfg))))
        header["__metadata__"]["network"] = json.dumps(_replace(cfg, path, value))
    else:
        path = data.draw(st.sampled_from(list(_paths(header))))
        header = _replace(header, path, value)
    raw = json.dumps(header).encode()
    _outcome(folder, len(raw).to_bytes(8, "little") + raw + model_bytes[8 + n :])


@settings(max_examples=100, deadline=None)
@given(
    edits=st.lists(st.tuples(st.integers(0, 10**6), st.integers(0, 255)), min_size=1, max_size=4),
    cut=st.integers(0, 10**6),
)
def test_mutated_checkpoints(folder, checkpoint_bytes, edits, cut):
    _outcome(folder, _flip(checkpoint_bytes, edits), load_checkpoint)
    assert _outcome(folder, checkpoint_bytes[: cut % len(checkpoint_bytes)], load_checkpoint) is None


@settings(max_examples=150, deadline=None)
@given(data=st.data())
def test_checkpoint_trainer_state_with_hostile_values(folder, checkpoint_bytes, data):
    # Replace one value of the trainer state (epoch, rng, optimizer, history) with arbitrary JSON.
    # A checkpoint that loads must also be accepted by Trainer.load_state_dict.
    n = int.from_bytes(checkpoint_bytes[:8], "little")
    header = json.loads(checkpoint_bytes[8 : 8 + n])
    trainer = json.loads(header["__metadata__"]["trainer"])
    path = data.draw(st.sampled_from(list(_paths(trainer))))
    header["__metadata__"]["trainer"] = json.dumps(_replace(trainer, path, data.draw(json_values)))
    raw = json.dumps(header).encode()
    ck = _outcome(folder, len(raw).to_bytes(8, "little") + raw + checkpoint_bytes[8 + n :], load_checkpoint)
    if ck is not None:
        tr = Trainer(mlp([3, 4, 2], hidden="tanh", seed=0), "adam", lr=0.01, epochs=2)
        tr.load_state_dict(ck["trainer_state"])


TRAIN_META = {
    "task": "classification",
    "classes": [0, 1],
    "preprocessing": {"mean": [0.0, 0.5, 1.0], "std": [1.0, 2.0, 0.5]},
    "target_range": [0.1, 0.9],
    "n_features": 3,
    "config": {"hidden": [4], "seed": 0},
    "test": {"loss": 0.5, "accuracy": 0.75},
    "epochs_trained": 3,
    "stop_reason": "completed 3 epochs",
    "label_type": "multiclass",
    "feature_names_in": ["a", "b", "c"],
}


@FUZZ
@given(data=st.data())
def test_user_metadata_with_hostile_values(folder, model_bytes, data):
    # Replace any one value of the metadata neuronet reads (task, classes, preprocessing, ...) with
    # arbitrary JSON: a ModelFileError naming the file, or metadata that predict and evaluate can use.
    n = int.from_bytes(model_bytes[:8], "little")
    header = json.loads(model_bytes[8 : 8 + n])
    path = data.draw(st.sampled_from(list(_paths(TRAIN_META))[1:]))
    user = _replace(json.loads(json.dumps(TRAIN_META)), path, data.draw(json_values))
    header["__metadata__"]["user"] = json.dumps(user)
    raw = json.dumps(header).encode()
    result = _outcome(folder, len(raw).to_bytes(8, "little") + raw + model_bytes[8 + n :])
    if result is not None:
        net, meta = result
        pre = meta.get("preprocessing")
        if pre:
            std = np.asarray(pre["std"], dtype=net.dtype)
            assert std.shape == (net.n_inputs,) and (std > 0).all() and np.isfinite(std).all()
        classes = meta.get("classes") or []
        assert len(set(map(repr, classes))) == len(classes), "classes that load are distinct"
        assert meta.get("task") in (None, "classification", "regression")
