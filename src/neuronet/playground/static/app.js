// The playground page: one WebSocket to this tab's session, two tabs, messages routed to them.
import { NetworkTab } from "./network.js";
import { BiologyTab } from "./biology.js";

let ws = null;
const conn = document.getElementById("conn");
const banner = document.getElementById("message");

function send(msg) {
  if (ws && ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify(msg));
}

export function showMessage(text, kind = "error") {
  banner.textContent = text;
  banner.className = text ? `shown ${kind === "note" ? "note" : ""}` : "";
}

function markInvalid(field) {
  const el = field && document.querySelector(`[data-testid="${CSS.escape(field)}"]`);
  if (el) el.classList.add("invalid");
}

export function clearInvalid(scope = document) {
  scope.querySelectorAll(".invalid").forEach((el) => el.classList.remove("invalid"));
}

const net = new NetworkTab(send, { showMessage, clearInvalid });
const bio = new BiologyTab(send, { showMessage, clearInvalid });

function onMessage(ev) {
  const msg = JSON.parse(ev.data);
  switch (msg.type) {
    case "hello": {
      const l = msg.limits;
      document.querySelector("footer").textContent = "neuronet playground: the engine runs on this computer; " +
        `nothing leaves it. This server holds up to ${l.max_sessions} tabs, each a network of at most ` +
        `${l.max_layers} hidden layers of ${l.max_units} units.`;
      net.hello(msg);
      break;
    }
    case "config": net.config(msg); break;
    case "frame": net.frame(msg); break;
    case "paused": net.paused(); break;
    case "export": net.exported(msg); break;
    case "lif": bio.lif(msg); break;
    case "hopfield": bio.hopfield(msg); break;
    case "plasticity": bio.plasticity(msg); break;
    case "error":
      showMessage(msg.message);
      markInvalid(msg.field);
      bio.failed(msg.request);
      break;
    default: break;
  }
}

function connect() {
  const proto = location.protocol === "https:" ? "wss" : "ws";
  ws = new WebSocket(`${proto}://${location.host}/ws`);
  ws.onopen = () => { conn.textContent = "connected"; conn.className = ""; };
  ws.onmessage = onMessage;
  ws.onclose = (ev) => {
    conn.textContent = "disconnected";
    conn.className = "down";
    net.paused();
    const why = ev.reason ? `: ${ev.reason}` : "";
    showMessage(`connection closed (code ${ev.code})${why}. Reload the page to start a new session.`);
  };
}

for (const tab of document.querySelectorAll(".tab")) {
  tab.addEventListener("click", () => {
    document.querySelectorAll(".tab").forEach((t) => t.classList.toggle("active", t === tab));
    document.querySelectorAll(".page").forEach((p) => p.classList.toggle("active", p.id === tab.dataset.tab));
    if (tab.dataset.tab === "biology") bio.activate();
  });
}

connect();
