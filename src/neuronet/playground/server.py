"""The playground's server: Starlette on uvicorn, one WebSocket session per browser tab.

Routes
------
``GET /``                   the page (``static/index.html``); assets under ``/static/``
``GET /health``             ``{"sessions": n, "max_sessions": m}``
``GET /data/{id}.npz``      the open session ``id``'s data split, for an exported ``--data FILE.npz``
``WS  /ws``                 the session: JSON messages both ways (``protocol`` below)

Limits, stated: at most ``max_sessions`` (default 16) sessions at once, each one tab's network
(≤ 6 hidden layers of ≤ 128 units, at most 40 MB, see ``session``) and its biology demos;
messages of at most ``MAX_MESSAGE_BYTES``.  A session ends, and its memory is freed, when its
socket closes.

Close codes: 1003 a binary message, 1007 a message that is not a JSON object, 1008 a page from
another origin, 1009 a message over the size limit, 1013 the server already holds
``max_sessions`` sessions.  Invalid values inside a well-formed message are answered with an
``{"type": "error", "field", "message"}`` frame and change nothing; the session stays open.

Training and measuring run in worker threads (``asyncio.to_thread``), one call at a time per
session, so the event loop keeps serving every other session; a frame's training stops after
``MAX_FRAME_TRAIN_S`` however many steps the speed option asks for.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import secrets
import socket
import sys
import threading
import webbrowser
from importlib import resources
from urllib.parse import urlsplit

from ..errors import ConfigError, NeuronetError
from .biology import HopfieldDemo, lif_view, plasticity_view
from .options import MAX_LAYERS, MAX_UNITS, OPTIONS, REMEDIES
from .presets import PRESETS
from .session import NetSession

log = logging.getLogger("neuronet.playground")

MAX_SESSIONS = 16
MAX_MESSAGE_BYTES = 64 * 1024
MIN_FRAME_S = 1 / 60  # frames are paced to at most 60 per second
MAX_FRAME_TRAIN_S = 0.05
CLOSE_UNSUPPORTED, CLOSE_INVALID, CLOSE_POLICY, CLOSE_TOO_BIG, CLOSE_BUSY = 1003, 1007, 1008, 1009, 1013
STATIC = resources.files("neuronet.playground") / "static"


class Session:
    """One browser tab: its network, its Hopfield demo, and whether it is playing."""

    def __init__(self, ws):
        self.id = secrets.token_urlsafe(12)
        self.ws = ws
        self.net = NetSession()
        self.hopfield: HopfieldDemo | None = None
        self.playing = False
        self.play_task: asyncio.Task | None = None
        self.lock = asyncio.Lock()  # one computation at a time
        self.send_lock = asyncio.Lock()  # one message at a time

    async def send(self, msg: dict):
        async with self.send_lock:
            await self.ws.send_text(json.dumps(msg, separators=(",", ":"), allow_nan=False))

    async def run(self, fn, *args):
        """``fn(*args)`` in a worker thread, after any other computation of this session."""
        async with self.lock:
            return await asyncio.to_thread(fn, *args)


class Registry:
    """The open sessions, at most ``max_sessions``."""

    def __init__(self, max_sessions: int = MAX_SESSIONS):
        self.max_sessions = int(max_sessions)
        self.sessions: dict[str, Session] = {}

    def open(self, ws) -> Session | None:
        if len(self.sessions) >= self.max_sessions:
            return None
        s = Session(ws)
        self.sessions[s.id] = s
        return s

    def close(self, s: Session):
        """Forget ``s``; a frame still computing in a thread finishes and is dropped with it."""
        s.playing = False
        if s.play_task is not None:
            s.play_task.cancel()
        self.sessions.pop(s.id, None)


# -- the protocol -------------------------------------------------------------------------------
def _hello(s: Session, max_sessions: int) -> dict:
    return {
        "type": "hello",
        "session": s.id,
        "options": {
            n: {"kind": o.kind, "default": o.default, "help": o.help, "choices": list(o.choices)}
            for n, o in OPTIONS.items()
        },
        "limits": {
            "max_layers": MAX_LAYERS,
            "max_units": MAX_UNITS,
            "max_message_bytes": MAX_MESSAGE_BYTES,
            "max_sessions": max_sessions,
        },
        "presets": {k: {"title": p.title, "look": p.look} for k, p in PRESETS.items()},
        "remedies": {str(k): v for k, v in REMEDIES.items()},
    }


def _train_frame(s: Session) -> dict:
    s.net.train(max_seconds=MAX_FRAME_TRAIN_S)
    return s.net.frame()


async def _play(s: Session):
    """Train and stream frames while the session plays; pause on divergence."""
    loop = asyncio.get_running_loop()
    while s.playing:
        t0 = loop.time()
        frame = await s.run(_train_frame, s)
        if frame["diverged"]:
            s.playing = False
        frame["playing"] = s.playing
        await s.send(frame)
        await asyncio.sleep(max(0.0, MIN_FRAME_S - (loop.time() - t0)))


async def _stop(s: Session):
    """Stop playing; waits for the frame in progress (a cancelled thread would run on unseen)."""
    s.playing = False
    task, s.play_task = s.play_task, None
    if task is not None and task is not asyncio.current_task():
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def _config_and_frame(s: Session, extra: dict | None = None):
    msg, frame = await s.run(lambda: (s.net.describe(), s.net.frame()))
    await s.send({**msg, **(extra or {})})
    await s.send({**frame, "playing": s.playing})


async def _network(s: Session, kind: str, msg: dict):
    if kind == "play":
        if not s.playing:
            s.playing = True
            s.play_task = asyncio.create_task(_play(s))
        return
    if kind == "pause":
        await _stop(s)
        await s.send({"type": "paused"})
        return
    if kind == "step":
        await _stop(s)
        frame = await s.run(lambda: (s.net.train(1), s.net.frame())[1])
        await s.send({**frame, "playing": False})
        return
    if kind == "export":
        await s.send({**(await s.run(s.net.export)), "data_url": f"/data/{s.id}.npz"})
        return
    await _stop(s)
    if kind == "reset":
        await s.run(s.net.reset)
        await _config_and_frame(s)
    elif kind == "set":
        notes = await s.run(s.net.apply, msg.get("changes"))
        await _config_and_frame(s, {"notes": notes})
    elif kind == "remedy":
        notes = await s.run(s.net.apply_remedy, msg.get("which"), msg.get("on"))
        await _config_and_frame(s, {"notes": notes})
    elif kind == "preset":
        look = await s.run(s.net.apply_preset, msg.get("name"))
        await _config_and_frame(s, {"look": look, "preset": msg.get("name")})


def _hopfield(s: Session, msg: dict) -> dict:
    action = msg.get("action")
    if s.hopfield is None:
        s.hopfield = HopfieldDemo()
    h = s.hopfield
    damage = (msg.get("corrupt", 0.0), msg.get("kill", 0.0), msg.get("seed", 0))
    if action == "store":
        h.store(msg.get("digits"))
        h.cue(None, *damage)
    elif action == "cue":
        h.cue(msg.get("target"), *damage)
    elif action == "step":
        h.step()
    elif action != "view":
        raise ConfigError(f"hopfield: unknown action {action!r}; valid: store, cue, step, view")
    return h.view()


def _kwargs(msg: dict, names) -> dict:
    return {n: msg[n] for n in names if n in msg}


async def handle(s: Session, msg: dict):
    """Answer one message; invalid values become an error frame."""
    kind = msg.get("type")
    try:
        if kind in ("play", "pause", "step", "reset", "set", "remedy", "preset", "export"):
            await _network(s, kind, msg)
        elif kind == "lif":
            await s.send(await s.run(lambda: lif_view(**_kwargs(msg, ("current_na", "input", "t_ref_ms")))))
        elif kind == "plasticity":
            await s.send(await s.run(lambda: plasticity_view(**_kwargs(msg, ("eta", "epochs", "seed")))))
        elif kind == "hopfield":
            await s.send(await s.run(_hopfield, s, msg))
        else:
            raise ConfigError(f"unknown message type {kind!r}")
    except NeuronetError as e:
        await s.send({"type": "error", "field": getattr(e, "field", kind), "message": str(e), "request": kind})
    except (TypeError, KeyError, AttributeError) as e:  # a well-formed message of the wrong shape
        log.warning("malformed %s message: %s", kind, e)
        await s.send({"type": "error", "field": kind, "message": f"{kind}: malformed message ({e})", "request": kind})


# -- the app ------------------------------------------------------------------------------------
def _same_origin(ws) -> bool:
    origin = ws.headers.get("origin")
    return origin is None or urlsplit(origin).netloc == ws.headers.get("host")


async def _close(ws, code: int, reason: str):
    await ws.accept()
    await ws.close(code=code, reason=reason[:120])


def _decode(message: dict) -> tuple[dict | None, int | None, str]:
    """``(message, None, "")`` for a well-formed text message, else ``(None, close code, reason)``."""
    text = message.get("text")
    if text is None:
        return None, CLOSE_UNSUPPORTED, "binary messages are not supported; send JSON text"
    if len(text.encode()) > MAX_MESSAGE_BYTES:
        return None, CLOSE_TOO_BIG, f"message over {MAX_MESSAGE_BYTES} bytes"
    try:
        msg = json.loads(text)
    except ValueError:
        return None, CLOSE_INVALID, "malformed message: not JSON"
    except RecursionError:  # 20,000 nested brackets fit in the size limit
        return None, CLOSE_INVALID, "malformed message: nested too deeply"
    if not isinstance(msg, dict):
        return None, CLOSE_INVALID, "malformed message: expected a JSON object with a type"
    return msg, None, ""


async def _socket(ws):
    registry: Registry = ws.app.state.registry
    if not _same_origin(ws):
        await _close(ws, CLOSE_POLICY, "the playground accepts pages from its own origin only")
        return
    s = registry.open(ws)
    if s is None:
        await _close(ws, CLOSE_BUSY, f"server busy: {registry.max_sessions} sessions open (the limit); retry later")
        return
    try:
        await ws.accept()
        await s.send(_hello(s, registry.max_sessions))
        await _config_and_frame(s)
        while True:
            message = await ws.receive()
            if message["type"] == "websocket.disconnect":
                break
            msg, code, reason = _decode(message)
            if msg is None:
                await ws.close(code=code, reason=reason)
                break
            await handle(s, msg)
    except Exception as e:  # a broken socket or a bug ends this session only
        if type(e).__name__ not in ("WebSocketDisconnect", "ClientDisconnected", "CancelledError"):
            log.exception("session %s ended by an error", s.id)
    finally:
        registry.close(s)


def create_app(max_sessions: int = MAX_SESSIONS):
    """The ASGI application (Starlette); ``app.state.registry`` holds the sessions."""
    from starlette.applications import Starlette
    from starlette.responses import FileResponse, JSONResponse, Response
    from starlette.routing import Mount, Route, WebSocketRoute
    from starlette.staticfiles import StaticFiles

    static_dir = str(STATIC)

    async def index(request):
        return FileResponse(f"{static_dir}/index.html", headers={"Cache-Control": "no-cache"})

    async def health(request):
        reg = request.app.state.registry
        return JSONResponse({"sessions": len(reg.sessions), "max_sessions": reg.max_sessions})

    async def data_file(request):
        s = request.app.state.registry.sessions.get(request.path_params["sid"])
        if s is None:
            return Response("no such session (it ends when its page closes)", status_code=404)
        body = await s.run(s.net.data.to_npz)
        name = f"playground-{s.net.data.name}-seed{s.net.config['seed']}.npz"
        return Response(
            body,
            media_type="application/octet-stream",
            headers={"Content-Disposition": f'attachment; filename="{name}"'},
        )

    app = Starlette(
        routes=[
            Route("/", index),
            Route("/health", health),
            Route("/data/{sid}.npz", data_file),
            WebSocketRoute("/ws", _socket),
            Mount("/static", StaticFiles(directory=static_dir), name="static"),
        ]
    )
    app.state.registry = Registry(max_sessions)
    return app


# -- the command --------------------------------------------------------------------------------
def _bind(host: str, port: int) -> socket.socket:
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as e:
        raise ConfigError(f"--host {host}: cannot resolve ({e.strerror})") from None
    family, _, _, _, addr = infos[0]
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(addr)
    except OSError as e:
        sock.close()
        raise ConfigError(f"--port {port}: cannot listen on {host}:{port} ({e.strerror}); try another --port") from None
    sock.listen(128)
    sock.set_inheritable(True)
    return sock


def _is_loopback(host: str) -> bool:
    return host in ("localhost", "::1") or host.startswith("127.")


def serve(host: str = "127.0.0.1", port: int = 8765, open_browser: bool = True) -> None:
    """Serve the playground on ``host:port`` until Ctrl-C; open the page in a browser if asked.

    Raises ``ConfigError`` (one line, exit code 2 in the CLI) when the playground extra is not
    installed, the port is taken or the host cannot be bound.
    """
    try:
        import uvicorn
    except ImportError:
        raise ConfigError(
            "neuronet playground needs its extra: pip install 'neuronet[playground]' (starlette, uvicorn, websockets)"
        ) from None
    if not 0 <= int(port) <= 65535:
        raise ConfigError(f"--port {port}: must lie in 0–65535")
    sock = _bind(host, int(port))
    port = sock.getsockname()[1]
    url_host = f"[{host}]" if ":" in host else host
    url = f"http://{url_host}:{port}/"
    reach = "only this computer can connect" if _is_loopback(host) else "other computers on the network can connect"
    print(f"neuronet playground: {url}  (bound to {host}: {reach}; Ctrl-C stops it)", flush=True)
    server = uvicorn.Server(uvicorn.Config(create_app(), log_level="warning", ws="websockets-sansio"))
    if open_browser:

        def opener():
            while not server.started and not server.should_exit:
                threading.Event().wait(0.05)
            if server.started:
                webbrowser.open(url)

        threading.Thread(target=opener, daemon=True).start()
    from threadpoolctl import threadpool_limits

    # the playground's matrices are small and many sessions compute at once: one BLAS thread each
    with contextlib.suppress(KeyboardInterrupt), threadpool_limits(limits=1, user_api="blas"):
        server.run(sockets=[sock])
    sock.close()
    print("neuronet playground: stopped", file=sys.stderr, flush=True)
