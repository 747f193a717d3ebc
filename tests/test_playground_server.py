"""The playground's server over HTTP and WebSockets: protocol, limits, bad input, cleanup."""

import contextlib
import io
import json
import os
import time

import numpy as np
import pytest

try:
    from starlette.testclient import TestClient
    from starlette.websockets import WebSocketDisconnect
except ImportError:
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        raise  # CI installs the playground extra: its tests may not quietly skip
    pytest.skip("the playground extra (starlette, uvicorn, httpx2) is not installed", allow_module_level=True)

from neuronet.playground import server


@pytest.fixture
def app():
    return server.create_app(max_sessions=3)


@pytest.fixture
def client(app):
    with TestClient(app) as c:
        yield c


def opened(ws) -> dict:
    """Read the three opening messages; return the hello."""
    hello, config, frame = ws.receive_json(), ws.receive_json(), ws.receive_json()
    assert (hello["type"], config["type"], frame["type"]) == ("hello", "config", "frame")
    return hello


def next_of(ws, kind, limit=200):
    for _ in range(limit):
        msg = ws.receive_json()
        if msg["type"] == kind:
            return msg
    raise AssertionError(f"no {kind!r} message in {limit}")


def wait_until(cond, seconds=5.0):
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if cond():
            return True
        time.sleep(0.02)
    return cond()


def test_page_and_assets_are_served_from_the_package(client):
    page = client.get("/")
    assert page.status_code == 200 and 'data-testid="play"' in page.text
    total = len(page.content)
    for asset in ("app.js", "network.js", "biology.js", "draw.js", "style.css"):
        r = client.get(f"/static/{asset}")
        assert r.status_code == 200, asset
        total += len(r.content)
    assert total < 1_000_000, f"page assets must stay under 1 MB, got {total} bytes"
    assert "http://" not in page.text.replace("http://www.w3.org", ""), "no CDN: every asset is local"


def test_training_stream_over_the_socket_lowers_the_loss_on_xor_with_relu(client):
    with client.websocket_connect("/ws") as ws:
        opened(ws)
        ws.send_json({"type": "preset", "name": "xor-relu"})
        config = next_of(ws, "config")
        assert config["config"]["activation"] == "relu" and config["config"]["dataset"] == "xor"
        first = next_of(ws, "frame")
        ws.send_json({"type": "play"})
        losses = []
        while len(losses) < 2000 and (len(losses) < 20 or losses[-1] >= 0.1):
            losses.append(next_of(ws, "frame")["test_loss"])
        ws.send_json({"type": "pause"})
        next_of(ws, "paused")
    assert losses[-1] < 0.1 < first["test_loss"], f"test loss {first['test_loss']} -> {losses[-1]}"
    assert np.mean(losses[-10:]) < np.mean(losses[:10]), "the loss falls while the page watches"


def test_invalid_values_get_an_error_frame_and_the_session_goes_on(client):
    with client.websocket_connect("/ws") as ws:
        opened(ws)
        for msg, field in [
            ({"type": "set", "changes": {"learning-rate": 0}}, "learning-rate"),
            ({"type": "set", "changes": {"hidden-layers": "1000000"}}, "hidden-layers"),
            ({"type": "set", "changes": {"hidden-layers": "0"}}, "hidden-layers"),
            ({"type": "set", "changes": {"batch-size": "many"}}, "batch-size"),
            ({"type": "set", "changes": "lr=1"}, "config"),
            ({"type": "remedy", "which": 9, "on": True}, "remedy"),
            ({"type": "preset", "name": "nope"}, "preset"),
            ({"type": "lif", "current_na": "abc"}, "lif-current"),
            ({"type": "hopfield", "action": "cue", "corrupt": 2}, "hopfield-corrupt"),
            ({"type": "fly"}, "fly"),
        ]:
            ws.send_json(msg)
            err = next_of(ws, "error")
            assert err["field"] == field and err["message"], f"{msg} -> {err}"
        ws.send_json({"type": "step"})
        frame = next_of(ws, "frame")
        assert frame["updates"] == 1, "after every rejected message the session still trains"
        ws.send_json({"type": "export"})
        assert "--lr 0.1" in next_of(ws, "export")["command"], "rejected values changed nothing"


@pytest.mark.parametrize(
    ("send", "code"),
    [
        (lambda ws: ws.send_text("{not json"), 1007),
        (lambda ws: ws.send_text("[1, 2]"), 1007),
        (lambda ws: ws.send_bytes(b"\x00\x01"), 1003),
        (lambda ws: ws.send_text(json.dumps({"type": "set", "pad": "x" * 70_000})), 1009),
    ],
)
def test_malformed_messages_close_only_their_own_session(client, app, send, code):
    with client.websocket_connect("/ws") as good:
        opened(good)
        with client.websocket_connect("/ws") as bad:
            opened(bad)
            send(bad)
            with pytest.raises(WebSocketDisconnect) as e:
                bad.receive_json()
            assert e.value.code == code, f"expected close code {code}, got {e.value.code} ({e.value.reason})"
        good.send_json({"type": "step"})
        assert next_of(good, "frame")["updates"] == 1, "the other session keeps serving"
    assert wait_until(lambda: not app.state.registry.sessions), "closed sessions are removed"


def test_session_cap_is_enforced_and_sessions_are_freed_when_sockets_close(client, app):
    reg = app.state.registry
    with contextlib.ExitStack() as stack:
        sockets = [stack.enter_context(client.websocket_connect("/ws")) for _ in range(3)]
        ids = {opened(ws)["session"] for ws in sockets}
        assert len(ids) == 3 and len(reg.sessions) == 3, "one session per socket"
        sockets[0].send_json({"type": "play"})
        next_of(sockets[0], "frame")
        with client.websocket_connect("/ws") as extra, pytest.raises(WebSocketDisconnect) as e:
            extra.receive_json()
        assert e.value.code == 1013 and "3 sessions" in e.value.reason, e.value.reason
        assert client.get("/health").json() == {"sessions": 3, "max_sessions": 3}
    assert wait_until(lambda: not reg.sessions), f"sessions left after their sockets closed: {list(reg.sessions)}"
    with client.websocket_connect("/ws") as ws:
        opened(ws)
        assert len(reg.sessions) == 1, "a freed slot can be used again"


def test_pages_from_another_origin_are_refused(client):
    with (
        client.websocket_connect("/ws", headers={"origin": "http://evil.example"}) as ws,
        pytest.raises(WebSocketDisconnect) as e,
    ):
        ws.receive_json()
    assert e.value.code == 1008


def test_diverging_run_reports_the_rollback_and_stays_usable(client):
    with client.websocket_connect("/ws") as ws:
        opened(ws)
        ws.send_json({"type": "preset", "name": "exploding"})
        next_of(ws, "frame")
        ws.send_json({"type": "play"})
        frame = next_of(ws, "frame")
        assert frame["diverged"] and frame["playing"] is False, "divergence pauses the run"
        assert frame["train_loss"] is not None and np.isfinite(frame["train_loss"]), "the rolled-back weights are good"
        ws.send_json({"type": "set", "changes": {"learning-rate": "0.0001", "init": "fan-in"}})
        next_of(ws, "config")
        ws.send_json({"type": "step"})
        assert not next_of(ws, "frame")["diverged"]


def test_export_offers_the_data_split_for_download(client):
    with client.websocket_connect("/ws") as ws:
        sid = opened(ws)["session"]
        ws.send_json({"type": "export"})
        out = next_of(ws, "export")
        assert out["data_file"] == "playground-xor-seed0.npz" and out["data_url"] == f"/data/{sid}.npz"
        r = client.get(out["data_url"])
        assert r.status_code == 200 and "attachment" in r.headers["content-disposition"]
        arrays = np.load(io.BytesIO(r.content))
        assert arrays["X"].shape[1] == 2 and len(arrays["X"]) + len(arrays["X_test"]) == 400
    assert client.get(out["data_url"]).status_code == 404, "the file goes with its session"


def test_biology_messages(client):
    with client.websocket_connect("/ws") as ws:
        opened(ws)
        ws.send_json({"type": "lif", "current_na": "20", "input": "current", "t_ref_ms": 1})
        lif = next_of(ws, "lif")
        assert 400 < lif["rate_hz"] < 1000 == lif["ceiling_hz"], lif["rate_hz"]
        ws.send_json({"type": "hopfield", "action": "store", "digits": "7 2", "corrupt": 0.3, "kill": 0.2, "seed": 1})
        h = next_of(ws, "hopfield")
        assert h["digits"] == [7, 2] and h["target"] == 7 and h["overlap"] < 0.7 and h["alive"] == 51
        for _ in range(5):
            ws.send_json({"type": "hopfield", "action": "step"})
            h = next_of(ws, "hopfield")
        assert h["converged"] and h["overlap"] == 1.0, h["overlap"]
        ws.send_json({"type": "plasticity", "eta": 0.02, "epochs": 3})
        p = next_of(ws, "plasticity")
        assert p["oja"]["cos_pc1"] > 0.95 and p["hebb"]["final_norm"] > p["oja"]["final_norm"]


def test_serve_refuses_a_port_in_use_with_one_line():
    import socket

    from neuronet.errors import ConfigError

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        with pytest.raises(ConfigError, match=f"--port {port}: cannot listen"):
            server.serve("127.0.0.1", port, open_browser=False)
