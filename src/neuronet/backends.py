"""Run independent tasks serially, in a process pool, or on Dask: the machinery behind sweeps and the lecture.

``run_tasks(fn, tasks, sink, backend=...)`` calls ``fn(task, blas_threads)`` for every task and
hands each result to ``sink.result(task, value)`` in the coordinating process as soon as it
arrives (``sink.failure(task, error)`` when ``fn`` raised; ``sink.log(line)`` for news).  ``fn``
must be a module-level function and every task picklable (with an ``id`` string, unique in
the batch), because the ``processes`` and ``dask`` backends send them to other processes.

Backends
--------
``auto``
    ``processes`` with one worker per core (at most ``AUTO_MAX_WORKERS``) when this machine has
    two or more cores (or ``workers`` asks for two or more) and there are two or more tasks;
    ``dask`` when a scheduler or client is given; ``serial`` otherwise.  The default of
    ``neuronet lecture`` and ``neuronet sweep``; ``resolve_backend`` says which.
``serial``
    One task after another in this process.
``processes``
    A ``ProcessPoolExecutor`` with N spawned worker processes.  A pool whose worker dies is
    started again for the tasks that had not finished; the tasks that were running when it died
    go last, one at a time, so only a task that kills its worker on its own fails for it.
``dask``
    ``dask.distributed``: a ``LocalCluster`` of N single-threaded worker processes, or the
    cluster whose scheduler is at ``scheduler="tcp://host:8786"``, or a given ``client``.

Each task pins BLAS (threadpoolctl, through ``blas_limit``) to its share of the cores of the
machine it runs on, so N concurrent tasks do not oversubscribe the cores; a task's result does not depend on the
backend.  Only the coordinator ever writes results (workers return values), see
``neuronet.sweep``'s module docstring for why.
"""

from __future__ import annotations

import contextlib
import os
import threading
import uuid

from .errors import ConfigError

__all__ = ["AUTO_MAX_WORKERS", "BACKENDS", "blas_limit", "check_backend", "cores", "resolve_backend", "run_tasks"]

BACKENDS = ("auto", "serial", "processes", "dask")
#: the most worker processes ``auto`` starts by itself (each loads its own data); --workers may ask for more
AUTO_MAX_WORKERS = 8


def cores() -> int:
    """Cores this process may run on: its CPU affinity, capped by a container's CPU quota (cgroups)."""
    try:
        n = len(os.sched_getaffinity(0))
    except AttributeError:
        n = os.cpu_count() or 1
    quota = _cgroup_cpus()
    return max(1, min(n, quota) if quota else n)


def _cgroup_cpus() -> int | None:
    """The CPU quota of this process's cgroup, rounded up to whole CPUs, or None when unlimited or unknown."""
    import math

    own = ""
    try:  # cgroup v2: this process's own group ("0::/path"), e.g. a systemd slice, before the root
        with open("/proc/self/cgroup") as f:
            own = next((ln.strip()[3:] for ln in f if ln.startswith("0::")), "")
    except OSError:
        pass
    for folder in dict.fromkeys([f"/sys/fs/cgroup{own}".rstrip("/"), "/sys/fs/cgroup"]):
        try:  # "max 100000" (no quota) or "200000 100000" (2 CPUs)
            with open(f"{folder}/cpu.max") as f:
                quota, period = f.read().split()[:2]
            if quota != "max":
                return math.ceil(int(quota) / int(period))
        except (OSError, ValueError):
            pass
    try:  # cgroup v1: a quota of -1 means unlimited
        with open("/sys/fs/cgroup/cpu/cpu.cfs_quota_us") as f:
            quota = int(f.read())
        with open("/sys/fs/cgroup/cpu/cpu.cfs_period_us") as f:
            period = int(f.read())
        return math.ceil(quota / period) if quota > 0 and period > 0 else None
    except (OSError, ValueError):
        return None


def check_backend(backend, *, workers=None, scheduler=None, client=None, blas_threads=None):
    """ConfigError naming the option when the backend settings cannot work."""
    if backend not in BACKENDS:
        raise ConfigError(f"--backend: unknown backend {backend!r}; valid: {', '.join(BACKENDS)}")
    if (scheduler or client is not None) and backend not in ("dask", "auto"):
        raise ConfigError(f"--scheduler: only with --backend dask (got --backend {backend})")
    if workers is not None and (not isinstance(workers, int) or isinstance(workers, bool) or workers < 1):
        raise ConfigError(f"--workers: expected an integer >= 1, got {workers!r}")
    if blas_threads is not None and (
        not isinstance(blas_threads, int) or isinstance(blas_threads, bool) or blas_threads < 1
    ):
        raise ConfigError(f"--blas-threads: expected an integer >= 1, got {blas_threads!r}")
    if backend == "dask" or (backend == "auto" and (scheduler or client is not None)):
        try:
            import distributed  # noqa: F401
        except ImportError:
            raise ConfigError('--backend dask: needs dask.distributed; pip install "neuronet[cluster]"') from None


_BLAS = threading.local()  # per thread: (shared objects loaded, ThreadpoolController) of blas_limit's last call
_PHDR: list = []  # [count(), or None where dl_iterate_phdr is missing], made on first use


def _loaded_objects() -> int | None:
    """How many shared objects this process has loaded (``dl_iterate_phdr``: ~0.06 ms), None where unknown."""
    if not _PHDR:
        import ctypes

        try:
            iterate = ctypes.CDLL(None).dl_iterate_phdr  # Linux and the BSDs; not macOS or Windows
        except (AttributeError, OSError):
            _PHDR.append(None)
        else:
            visit = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_void_p, ctypes.c_size_t, ctypes.c_void_p)
            seen = [0]

            def one(info, size, data):
                seen[0] += 1
                return 0

            callback = visit(one)

            def count():
                seen[0] = 0
                iterate(callback, None)
                return seen[0]

            _PHDR.append(count)
    count = _PHDR[0]
    return None if count is None else count()


@contextlib.contextmanager
def blas_limit(threads: int | None):
    """``threadpoolctl.threadpool_limits(limits=threads, user_api="blas")`` for the block, for one task.

    threadpoolctl finds the BLAS libraries anew on every call, ~3 ms, which over a lecture's
    2,548 runs was ~8 s of worker time.  This keeps the ``ThreadpoolController`` it found and
    makes a new one only when the process has loaded (or unloaded) a shared object since, so a
    BLAS library that a task loads later is limited too.  Where the shared objects cannot be
    counted it calls ``threadpool_limits`` each time.  ``threads`` None: no limit, no cost.
    """
    if threads is None:
        yield
        return
    from threadpoolctl import ThreadpoolController, threadpool_limits

    n = _loaded_objects()
    if n is None:
        with threadpool_limits(limits=threads, user_api="blas"):
            yield
        return
    cached = getattr(_BLAS, "controller", None)
    if cached is None or cached[0] != n:
        cached = _BLAS.controller = (n, ThreadpoolController())
    with cached[1].limit(limits=threads, user_api="blas"):
        yield


def resolve_backend(backend, n_tasks, workers=None, *, scheduler=None, client=None) -> tuple[str, int | None]:
    """``(backend, workers)`` to run ``n_tasks`` tasks with: what ``auto`` stands for; other backends as given.

    ``auto`` is ``dask`` when a scheduler or client is given; ``processes`` when two or more tasks
    can run at once (``workers``, by default the cores up to ``AUTO_MAX_WORKERS``, is at least 2):
    the runs of a lecture or a sweep are independent, and one process per core keeps every core
    busy with no change to the numbers; ``serial`` for a single task or a single core, where
    starting worker processes would only add their start-up time.
    """
    if backend != "auto":
        return backend, workers
    if scheduler or client is not None:
        return "dask", workers
    n = workers or min(cores(), AUTO_MAX_WORKERS)
    return ("processes", n) if n_tasks >= 2 and n >= 2 else ("serial", workers)


def run_tasks(
    fn, tasks, sink, *, backend="serial", workers=None, scheduler=None, client=None, blas_threads=None, group=None
):
    """Run ``fn(task, blas_threads)`` for each task on ``backend``; results go to ``sink`` as they arrive.

    Warnings that ``fn`` raises in a worker process are raised again here, once per category and
    text, from this module (a filter on the module that first raised them does not see them).
    ``workers`` defaults to ``cores()``, which counts a container's CPU quota as well as the
    process's CPU affinity.

    ``group`` (a function of a task: a hashable, or None) keeps tasks that share work a process
    memoises together: the tasks of one group run one after another in one worker, so that work is
    done once, not once per worker (see ``units``).  Results still reach ``sink`` task by task, but
    a group's arrive together when the group ends (an interrupted group's finished tasks are lost
    with it, and run again next time); a task of a group that raises, or whose result cannot be
    sent back, fails alone.  After a worker dies, the tasks it took down run again without groups
    (see ``_run_processes``).  In this process (``serial``) ``group`` changes nothing.
    """
    check_backend(backend, workers=workers, scheduler=scheduler, client=client, blas_threads=blas_threads)
    tasks = list(tasks)
    if not tasks:
        return
    backend, workers = resolve_backend(backend, len(tasks), workers, scheduler=scheduler, client=client)
    if backend == "serial":
        _run_serial(fn, tasks, sink, blas_threads)
    elif backend == "processes":
        _run_processes(fn, tasks, sink, workers or cores(), blas_threads, group)
    else:
        _run_dask(fn, tasks, sink, workers or cores(), scheduler, client, blas_threads, group)


def units(tasks, group=None) -> list[list]:
    """``tasks`` as units of work for one worker each: every group's tasks together, each other task alone.

    A group keeps the order of its tasks.  The groups come first, in the order of their first
    tasks, then the tasks of no group (``group(task)`` None) in their order: a group holds several
    runs, so it is the longest unit, and starting it last could leave the other cores idle while
    it finishes.  Without ``group`` every task is a unit of its own, in order.
    """
    if group is None:
        return [[t] for t in tasks]
    groups: dict = {}
    alone = []
    for t in tasks:
        g = group(t)
        if g is None:
            alone.append([t])
        else:
            groups.setdefault(g, []).append(t)
    return list(groups.values()) + alone


def _run_serial(fn, tasks, sink, blas_threads):
    for t in tasks:
        try:
            value = fn(t, blas_threads)
        except Exception as e:  # one bad task does not stop the others
            sink.failure(t, e)
            continue
        sink.result(t, value)


def _run_processes(fn, tasks, sink, workers, blas_threads, group=None, max_restarts=3):
    """The processes backend: a pool of spawned workers; a pool whose worker dies is started again.

    Each worker reports which task it starts, so a death is pinned on the tasks that were running
    (one per worker); those that were only queued, or had finished in a group not yet sent back,
    run again as before.  The ones running then are run again last, one at a time in a pool of
    one worker, so the task that kills its worker process on its own (out of memory, a crash in C)
    fails alone, and the tasks that only happened to run beside it succeed.  A task whose lone
    worker is killed from outside (the OOM killer choosing it for another process's memory) fails
    then too.  A death that no running task explains restarts the pool at most ``max_restarts``
    times.
    """
    import multiprocessing

    threads = blas_threads or max(1, cores() // workers)
    ctx = multiprocessing.get_context("spawn")
    seen = set()  # warnings already passed on: one line each, however many tasks raised them
    pending, suspects, restarts = list(tasks), [], 0
    while pending or suspects:
        alone = not pending  # the suspects' turn: one worker, one task at a time
        batch = suspects if alone else pending
        lost, started = _pool_round(fn, batch, sink, 1 if alone else workers, threads, group, seen, ctx)
        group = None  # after a death, task by task: only the task at fault may fail for it
        if alone:
            suspects = []
        else:
            pending = []
        if not lost:
            continue
        running = [t for t in lost if t.id in started]
        queued = [t for t in lost if t.id not in started]
        if alone:
            for t in running:  # the only task running in that pool: it took its worker down by itself
                sink.failure(t, RuntimeError("its worker process died while running it alone (out of memory?)"))
            suspects = queued
        else:
            order = {t.id: i for i, t in enumerate(tasks)}
            suspects = sorted([*suspects, *running], key=lambda t: order.get(t.id, -1))
            pending = queued
        if not running:
            restarts += 1
            if restarts > max_restarts:
                for t in [*pending, *suspects]:
                    sink.failure(t, RuntimeError(f"worker processes died {restarts} times"))
                return
        if pending or suspects:
            last = f" ({len(suspects)} that were running then go last, one at a time)" if pending and suspects else ""
            left = len(pending) + len(suspects)
            sink.log(f"a worker process died; restarting the pool for {left} unfinished tasks{last}")


def _pool_round(fn, batch, sink, workers, threads, group, seen, ctx) -> tuple[list, set]:
    """Run ``batch`` in one process pool until it is done or broken: ``(tasks lost with a dead
    worker, ids of the tasks the workers were running last)``."""
    import queue
    from concurrent.futures import ProcessPoolExecutor
    from concurrent.futures.process import BrokenProcessPool

    broken, running = [], {}
    alive, lifeline = ctx.Pipe(duplex=False)  # the workers hold `alive`; EOF there means this process is gone
    starts = ctx.SimpleQueue()  # each worker puts (pid, task id) before it starts a task
    done = threading.Event()

    def listen():  # read at once, so that a worker never blocks on a full pipe (a group puts many)
        while True:
            if starts.empty():
                if done.is_set():
                    return
                done.wait(0.02)
                continue
            pid, task_id = starts.get()
            running[pid] = task_id  # the task each worker runs now (or ran last)

    listener = threading.Thread(target=listen, name="neuronet-task-starts", daemon=True)
    listener.start()
    try:
        with ProcessPoolExecutor(
            max_workers=min(workers, len(batch)),
            mp_context=ctx,
            initializer=_worker_start,
            initargs=(alive, starts),
        ) as pool:
            # finished futures arrive on a queue: O(1) each, where wait() on the pending set
            # costs O(pending) per call (1.5 ms with 2,548 pending), O(n^2) over a lecture
            finished = queue.SimpleQueue()
            futures = {}
            try:  # submitting starts the workers (seconds): a Ctrl-C then must stop them too
                for unit in units(batch, group):  # a group: its tasks one after another in one worker
                    f = pool.submit(_run_unit, fn, unit, threads)
                    futures[f] = unit
                    f.add_done_callback(finished.put)
                while futures:
                    f = finished.get()
                    unit = futures.pop(f)
                    error = f.exception()
                    if error is None:
                        for t, (ok, value) in zip(unit, f.result(), strict=True):
                            if ok:
                                _deliver(sink, t, value, seen)
                            else:
                                sink.failure(t, value)
                    elif isinstance(error, BrokenProcessPool):
                        broken.extend(unit)  # a worker process died: run them again
                    else:
                        for t in unit:
                            sink.failure(t, error)
            except BaseException:  # Ctrl-C, or the sink failed: stop now, not after the queued tasks
                _terminate(pool)
                raise
    finally:
        done.set()
        listener.join()
        lifeline.close()
        alive.close()
        starts.close()
    order = {t.id: i for i, t in enumerate(batch)}
    return sorted(broken, key=lambda t: order[t.id]), set(running.values())  # in the original order again


#: In a pool worker: ``"starts"``, where it reports the id of each task it starts (see ``_pool_round``).
_WORKER: dict = {}


def _worker_start(alive, starts=None) -> None:
    """Pool-worker initializer: ignore Ctrl-C (the coordinator decides), and leave once the coordinator is gone.

    Ctrl-C in a terminal reaches the whole process group; a worker that took it would only start
    its next queued task, so the coordinator alone handles it and terminates the workers.  A worker
    of a ``ProcessPoolExecutor`` whose coordinator is killed outright (SIGKILL, the OOM killer) is
    never told and would wait on its task queue forever, holding its memory; a daemon thread
    blocks on ``alive``, the read end of a pipe whose only write end the coordinator holds, and
    ends the process when the pipe closes.  The unfinished run is lost with the coordinator, which
    alone writes results, and a rerun computes it again.
    """
    import contextlib
    import signal
    import threading

    _WORKER["starts"] = starts
    signal.signal(signal.SIGINT, signal.SIG_IGN)

    def watch():
        with contextlib.suppress(EOFError, OSError):
            alive.recv()  # nothing is ever sent: this returns when the coordinator's end closes
        os._exit(1)

    threading.Thread(target=watch, name="neuronet-coordinator-watch", daemon=True).start()


def _terminate(pool) -> None:
    """Shut a process pool down now: queued tasks cancelled, running ones' workers terminated.

    ``shutdown`` forgets the pool's processes, so they are taken first (Python 3.14 has
    ``terminate_workers``, which does both; before it, the pool's process table is private).
    """
    stop = getattr(pool, "terminate_workers", None)
    if stop is not None:
        stop()
        return
    procs = list((getattr(pool, "_processes", None) or {}).values())
    pool.shutdown(wait=False, cancel_futures=True)
    for p in procs:
        p.terminate()


def _recording_warnings(fn, task, threads):
    """``fn(task, threads)`` in a worker, with the warnings it raised: ``(value, [(text, category), ...])``.

    A category that cannot travel back (a class made inside a function) becomes a ``UserWarning``
    naming it, so that the task's value is not lost with it.
    """
    import pickle
    import warnings

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("default")
        value = fn(task, threads)
    out = []
    for w in caught:
        text, category = str(w.message), w.category
        try:
            pickle.dumps(category)
        except Exception:
            text, category = f"{category.__name__}: {text}", UserWarning
        out.append((text, category))
    return value, out


def _deliver(sink, task, returned, seen: set) -> None:
    """A worker's ``(value, warnings)``: the warnings raised again here, then the value to the sink.

    The command line shows a warning raised here as one line; each ``(category, text)`` once per
    ``run_tasks`` call (``seen``), as a serial run would show it once.  Where warnings are errors
    (``-W error``) the task fails, as it would have in a serial run.
    """
    import warnings

    value, caught = returned
    try:
        for text, category in caught:
            if (category, text) not in seen:
                seen.add((category, text))
                warnings.warn(text, category, stacklevel=2)
    except Exception as e:
        sink.failure(task, e)
        return
    sink.result(task, value)


def _n_workers(client) -> int:
    try:
        return max(1, len(client.scheduler_info(n_workers=-1)["workers"]))
    except TypeError:  # distributed before 2025: no n_workers
        return max(1, len(client.scheduler_info()["workers"]))


def _blas_shares(client) -> dict:
    """``{worker address: BLAS threads}``: each host's cores divided among its workers' threads."""
    try:
        info = client.scheduler_info(n_workers=-1)["workers"]
    except TypeError:  # distributed before 2025: no n_workers
        info = client.scheduler_info()["workers"]
    host_cores = client.run(cores)
    slots = {}
    for w in info.values():
        slots[w["host"]] = slots.get(w["host"], 0) + int(w.get("nthreads") or 1)
    return {addr: max(1, int(host_cores.get(addr, 1)) // max(1, slots[w["host"]])) for addr, w in info.items()}


def _on_dask_worker(fn, batch, shares: dict, default: int | None):
    """``fn`` on each task of ``batch`` on a Dask worker, BLAS pinned to this worker's share of its host.

    Returns one ``(True, (value, warnings))`` or ``(False, exception)`` per task, so one failing
    task does not take the others of its batch with it.
    """
    threads = default
    if threads is None:
        try:
            from distributed import get_worker

            threads = shares.get(get_worker().address, 1)
        except (ImportError, ValueError):
            threads = 1
    record = _single_threaded_worker()  # catch_warnings is process-wide: only one task at a time may record
    return _run_batch(fn, batch, threads, record)


def _run_batch(fn, batch, threads, record: bool):
    """``fn`` on each task of ``batch`` in this worker: one ``(True, (value, warnings))`` or
    ``(False, exception)`` per task, so one failing task does not take the others with it."""
    out = []
    for task in batch:
        if _WORKER.get("starts") is not None:  # in a pool worker: say which task runs, in case it dies
            _WORKER["starts"].put((os.getpid(), task.id))
        try:
            out.append((True, _recording_warnings(fn, task, threads) if record else (fn(task, threads), [])))
        except (Exception, SystemExit) as e:  # reported per task by the coordinator, like a task of its own
            out.append((False, _portable(e)))
    return out


def _run_unit(fn, unit, threads):
    """A pool worker's share: ``_run_batch`` over ``unit`` (one task, or a group's tasks), each outcome
    able to travel back: a value that cannot be pickled becomes that task's error alone, instead
    of failing the whole unit when the pool sends the list back."""
    import pickle

    out = _run_batch(fn, unit, threads, True)
    try:
        pickle.dumps(out)
        return out
    except Exception:  # find the one(s) at fault
        pass
    fixed = []
    for ok, value in out:
        try:
            pickle.dumps(value)
        except Exception as e:
            ok, value = False, RuntimeError(f"its result cannot be sent back: {type(e).__name__}: {e}")
        fixed.append((ok, value))
    return fixed


def _single_threaded_worker() -> bool:
    """Whether this Dask worker runs one task at a time (a LocalCluster of ours does; ``dask worker`` may not)."""
    try:
        from distributed import get_worker

        worker = get_worker()
        n = getattr(getattr(worker, "state", None), "nthreads", None) or getattr(worker, "nthreads", 1)
        return int(n) == 1
    except (ImportError, ValueError, AttributeError, TypeError):
        return False


def _portable(error: Exception) -> Exception:
    """``error`` if it survives pickling (it travels back inside a result), else a RuntimeError naming it."""
    import pickle

    try:
        pickle.loads(pickle.dumps(error))
        return error
    except Exception:
        return RuntimeError(f"{type(error).__name__}: {error}")


#: Most tasks in one Dask task (see ``dask_batches``).
MAX_BATCH = 8


def dask_batches(tasks: list, n_workers: int, max_batch: int = MAX_BATCH, group=None) -> list[list]:
    """Consecutive tasks grouped into Dask tasks: large batches first, single tasks at the end.

    A Dask task costs its worker a few milliseconds of bookkeeping on the worker's event loop,
    which competes for the GIL with the task itself; for the lecture's many sub-second runs that
    made each run about 30% slower than in a plain process.  Batches amortise it.  Each batch holds
    ``ceil(remaining / (4 · workers))`` tasks, at most ``max_batch`` (guided self-scheduling), so
    the batches shrink towards the end and no worker idles long while another finishes a big one.
    The runs of a batch reach the coordinator (and their cache files) together when it ends; a batch
    that kills its worker is run again task by task, so only the task at fault fails.

    With ``group`` (see ``run_tasks``), each group is a batch of its own, whatever its size, and
    the groups go first (``units``); the other tasks are batched as above.
    """
    batches = [u for u in units(tasks, group) if len(u) > 1] if group is not None else []
    if batches:
        grouped = {id(t) for b in batches for t in b}
        tasks = [t for t in tasks if id(t) not in grouped]
    i = 0
    while i < len(tasks):
        size = max(1, min(max_batch, -(-(len(tasks) - i) // (4 * max(1, n_workers)))))
        batches.append(tasks[i : i + size])
        i += size
    return batches


#: Seconds a Dask scheduler at ``--scheduler`` has to accept the connection and answer.
SCHEDULER_TIMEOUT_S = 20.0


def _probe_scheduler(address: str, timeout_s: float) -> None:
    """ConfigError unless a Dask scheduler at ``address`` answers within ``timeout_s`` seconds.

    distributed's ``Client`` waits for the scheduler's handshake with no time limit of its own, so
    a server that accepts the TCP connection and never answers would hang the sweep for ever.
    This asks the scheduler who it is, under one deadline for connecting, the handshake and the
    reply, in a thread of its own (with its own event loop, so it works inside a notebook too).
    """
    import asyncio
    import threading

    from distributed.comm import connect

    grace_s = 1.0  # connect() itself gives up on an address that refuses or drops connections after timeout_s

    async def ask():
        # connect() retries refused connections until timeout_s, then raises OSError; but once a
        # connection is accepted it waits for the handshake for ever: hence the outer deadline
        from distributed.security import Security

        args = Security().get_connection_args("client")  # dask's TLS settings, as Client(address) reads them
        comm = await asyncio.wait_for(connect(address, timeout=timeout_s, **args), timeout_s + grace_s)
        try:
            await asyncio.wait_for(comm.write({"op": "identity", "reply": True}), timeout_s)
            await asyncio.wait_for(comm.read(), timeout_s)
        finally:
            comm.abort()

    failed = []

    def probe():
        try:
            asyncio.run(ask())
        except BaseException as e:  # handed to the caller's thread
            failed.append(e)

    thread = threading.Thread(target=probe, name="neuronet-scheduler-probe", daemon=True)
    thread.start()
    thread.join(3 * timeout_s + 5)
    if thread.is_alive() or (failed and isinstance(failed[0], asyncio.TimeoutError)):
        raise ConfigError(
            f"--scheduler {address}: accepted the connection, but no Dask scheduler answered within {timeout_s:g} s"
        )
    if failed:
        e = failed[0]
        if not isinstance(e, (OSError, ValueError, TypeError)):
            raise e
        raise ConfigError(f"--scheduler {address}: cannot connect ({' '.join(str(e).split())})")


def _connect(workers, scheduler):
    """(client, cluster) for a scheduler address, or a new LocalCluster of single-threaded workers."""
    import logging

    from distributed import Client, LocalCluster

    if scheduler:
        _probe_scheduler(scheduler, SCHEDULER_TIMEOUT_S)
        try:
            return Client(scheduler, timeout=SCHEDULER_TIMEOUT_S), None
        except (OSError, ValueError, TypeError) as e:
            raise ConfigError(f"--scheduler {scheduler}: cannot connect ({' '.join(str(e).split())})") from None
    cluster = LocalCluster(
        n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None, silence_logs=logging.ERROR
    )
    return Client(cluster), cluster


def _run_dask(fn, tasks, sink, workers, scheduler, client, blas_threads, group=None):
    from distributed import as_completed

    cluster = own_client = None
    try:
        if client is None:
            own_client, cluster = _connect(workers, scheduler)
            client = own_client
        shares = {} if blas_threads else _blas_shares(client)
        if not shares and not blas_threads:
            sink.log("the Dask cluster has no workers yet; the tasks wait for workers to join")
        session = uuid.uuid4().hex[:8]  # fresh keys: never attach to a dead session's tasks
        seen = set()  # warnings passed on (see _deliver)
        futures = {}

        def submit(batch, priority):
            key = f"neuronet-task-{batch[0].id}-{len(batch)}-{session}"
            f = client.submit(_on_dask_worker, fn, batch, shares, blas_threads, key=key, pure=False, priority=priority)
            futures[f.key] = (f, batch)
            return f

        for i, batch in enumerate(dask_batches(list(tasks), _n_workers(client), group=group)):
            submit(batch, -i)
        queue = as_completed([f for f, _ in futures.values()])
        for f in queue:
            _, batch = futures.pop(f.key)
            if f.status == "finished":
                for t, (ok, value) in zip(batch, f.result(), strict=True):
                    if ok:
                        _deliver(sink, t, value, seen)
                    else:
                        sink.failure(t, value)
            elif len(batch) > 1:  # the batch killed its workers (or was lost): its tasks again, one by one
                for t in batch:
                    queue.add(submit([t], 0))
            else:
                try:
                    error = f.exception()
                except BaseException as e:  # cancelled
                    error = e
                sink.failure(batch[0], error)
            f.release()
    finally:
        if own_client is not None:
            own_client.close()
        if cluster is not None:
            cluster.close()
