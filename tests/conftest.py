import numpy as np
import pytest
from threadpoolctl import threadpool_limits


@pytest.fixture(autouse=True, scope="session")
def _one_blas_thread():
    # Keep test timings stable on shared 2-core machines; results do not depend on it.
    with threadpool_limits(limits=1, user_api="blas"):
        yield


@pytest.fixture
def rng():
    return np.random.default_rng(12345)


def pytest_sessionstart(session):
    """Under CI, the optional parts must be installed: their tests may not quietly skip."""
    import importlib
    import os

    if os.environ.get("CI", "").lower() not in ("1", "true", "yes"):
        return
    missing = []
    for mod in ("numba", "onnx", "onnxruntime", "distributed", "psutil", "starlette", "uvicorn", "playwright"):
        try:
            importlib.import_module(mod)
        except ImportError:
            missing.append(mod)
    if not os.path.isdir("/usr/share/datasets/fashion-mnist"):
        missing.append("Debian's dataset-fashion-mnist (.ci/run installs it)")
    if missing:
        raise pytest.UsageError(
            f"CI must run every test, but {', '.join(missing)} is not installed "
            "(make test installs the test, onnx, cluster and playground extras)"
        )


def break_temp_file_writes(monkeypatch, write):
    """Make ``write(file, data)`` handle every write to the atomic writer's temporary file.

    ``neuronet.files`` opens its temporary file with ``os.fdopen``; the wrapper passes everything
    else (``fileno``, closing) through, so only the write itself misbehaves.
    """
    import os

    real = os.fdopen

    class Broken:
        def __init__(self, f):
            self.f = f

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            self.f.close()

        def fileno(self):
            return self.f.fileno()

        def write(self, data):
            return write(self.f, data)

    monkeypatch.setattr(os, "fdopen", lambda fd, mode: Broken(real(fd, mode)))


@pytest.fixture
def full_disk(monkeypatch):
    """Every write to the atomic writer's temporary file fails with ENOSPC (the file write, not a syscall mock)."""
    import errno

    def enospc(f, data):
        raise OSError(errno.ENOSPC, "No space left on device")

    break_temp_file_writes(monkeypatch, enospc)


@pytest.fixture(autouse=True)
def _idx_pairs_kept_as_in_a_fresh_process(monkeypatch):
    """Every experiment run or sweep trial calls ``idx.keep_pairs()`` for the rest of its process; a test
    that ran one must not change how the IDX cache behaves in the next test."""
    from neuronet.data import idx

    monkeypatch.setitem(idx._KEEP, "from_first_read", False)
