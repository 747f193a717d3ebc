// The biology tab: one LIF neuron, Hopfield recall under damage, Hebb vs Oja.
import { drawSpins, fmt, lineChart } from "./draw.js";

const $ = (id) => document.getElementById(id);
const RECALL_DELAY_MS = 350;

export class BiologyTab {
  constructor(send, ui) {
    this.send = send;
    this.ui = ui;
    this.started = false;
    this.recalling = false;
    this.bindControls();
  }

  bindControls() {
    const lif = () => this.sendLif();
    $("lif-current").addEventListener("change", () => { $("lif-slider").value = $("lif-current").value; lif(); });
    $("lif-slider").addEventListener("input", () => { $("lif-current").value = $("lif-slider").value; lif(); });
    $("lif-input").addEventListener("change", lif);
    $("lif-t-ref").addEventListener("change", lif);
    $("hopfield-store").onclick = () => this.sendCue("store");
    for (const id of ["hopfield-target", "hopfield-corrupt", "hopfield-kill", "hopfield-seed"]) {
      $(id).addEventListener("change", () => this.sendCue());
    }
    $("hopfield-cue").onclick = () => this.sendCue();
    $("hopfield-step").onclick = () => { this.stopRecall(); this.send({ type: "hopfield", action: "step" }); };
    $("hopfield-recall").onclick = () => { this.recalling = true; this.send({ type: "hopfield", action: "step" }); };
    $("plasticity-run").onclick = () => this.sendPlasticity();
  }

  activate() {
    if (this.started) return;
    this.started = true;
    this.sendLif();
    this.sendCue();
    this.sendPlasticity();
  }

  sendLif() {
    this.pendingLif = { type: "lif", current_na: $("lif-current").value, input: $("lif-input").value, t_ref_ms: $("lif-t-ref").value };
    if (!this.lifBusy) this.flushLif();
  }

  // one LIF request in flight at a time: a dragged slider sends only its latest value
  flushLif() {
    if (!this.pendingLif) { this.lifBusy = false; return; }
    this.lifBusy = true;
    this.send(this.pendingLif);
    this.pendingLif = null;
  }

  // a new cue (or, with "store", new memories and a cue of the first): the damage fields apply to both
  sendCue(action = "cue") {
    this.stopRecall();
    this.send({
      type: "hopfield", action, digits: $("hopfield-digits").value, target: $("hopfield-target").value,
      corrupt: $("hopfield-corrupt").value, kill: $("hopfield-kill").value, seed: $("hopfield-seed").value,
    });
  }

  stopRecall() { this.recalling = false; }

  // an error answered one of our requests: stop waiting for it
  failed(request) {
    if (request === "hopfield") this.stopRecall();
    if (request === "lif") this.flushLif();
  }

  sendPlasticity() {
    this.send({ type: "plasticity", eta: $("plasticity-eta").value, epochs: $("plasticity-epochs").value, seed: $("plasticity-seed").value });
  }

  lif(m) {
    this.ui.clearInvalid(document.getElementById("biology"));
    this.flushLif();
    $("lif-rate").textContent = m.rate_hz.toFixed(1);
    $("lif-ceiling").textContent = `ceiling 1/t_ref = ${m.ceiling_hz.toFixed(0)}/s · threshold current ${m.threshold_na} nA` +
      (m.analytic_hz !== null ? ` · closed form ${m.analytic_hz.toFixed(1)}/s` : "");
    const dt = m.trace.dt_ms;
    const series = [{ points: m.trace.v_mv.map((v, i) => [i * dt, v]), color: "#1d232b", width: 1.2 }];
    for (const t of m.trace.spikes_ms) series.push({ points: [[t, m.v_thresh_mv], [t, 20]], color: "#c62828", width: 1 });
    for (const t of m.inputs_ms) series.push({ points: [[t, -80], [t, -76]], color: "#0877bd", width: 1.5 });
    lineChart($("lif-trace"), series, {
      yMin: -80, yMax: 22, xLabel: "time (ms)", yLabel: "v (mV)",
      hLines: [{ y: m.v_thresh_mv, color: "#9aa3ad", label: "threshold" }],
    });
    const fi = m.fi.current_na.map((c, i) => [c, m.fi.rate_hz[i]]);
    const point = m.input === "current" ? [{ x: m.current_na, y: m.rate_hz, color: "#c62828", label: `${m.rate_hz.toFixed(0)}/s` }] : [];
    lineChart($("lif-fi"), [
      { points: fi, color: "#0b6e4f", width: 2 },
      { points: m.fi.simulated, color: "#0877bd", width: 0.01, dots: true },
    ], {
      yMin: 0, yMax: m.ceiling_hz * 1.08, xLabel: "current (nA)", yLabel: "rate (1/s)",
      hLines: [{ y: m.ceiling_hz, color: "#c62828", label: "1/t_ref" }], markers: point,
    });
  }

  hopfield(m) {
    this.ui.clearInvalid(document.getElementById("biology"));
    const sel = $("hopfield-target");
    if ([...sel.options].map((o) => o.value).join() !== m.digits.join()) {
      sel.innerHTML = "";
      for (const d of m.digits) sel.add(new Option(`digit ${d}`, d));
    }
    sel.value = m.target;
    drawSpins($("hopfield-state"), m.state, m.side);
    const box = $("hopfield-patterns");
    if (box.childElementCount !== m.patterns.length) {
      box.innerHTML = "";
      m.patterns.forEach(() => {
        const fig = document.createElement("figure");
        fig.innerHTML = `<canvas width="64" height="64"></canvas><figcaption></figcaption>`;
        box.append(fig);
      });
    }
    [...box.children].forEach((fig, i) => {
      drawSpins(fig.querySelector("canvas"), m.patterns[i], m.side);
      fig.querySelector("figcaption").textContent = `${m.digits[i]}: m = ${m.overlaps[i].toFixed(2)}`;
    });
    $("hopfield-overlap").textContent = m.overlap.toFixed(3);
    $("hopfield-energy").textContent = fmt(m.energy);
    $("hopfield-sweeps").textContent = m.sweeps;
    $("hopfield-converged").textContent = m.converged ? "(a fixed point)" : "";
    $("hopfield-alive").textContent = `${m.alive} of ${m.n_neurons} neurons alive; ${m.digits.length} memories stored ` +
      `(capacity ≈ ${m.capacity} random patterns)`;
    lineChart($("hopfield-energy-chart"), [{ points: m.energies.map((e, i) => [i, e]), color: "#756bb1", width: 1.5 }], {
      xLabel: "single-neuron updates", yLabel: "energy",
    });
    if (this.recalling && !m.converged && m.sweeps < 20) {
      setTimeout(() => this.recalling && this.send({ type: "hopfield", action: "step" }), RECALL_DELAY_MS);
    } else {
      this.recalling = false;
    }
  }

  plasticity(m) {
    this.ui.clearInvalid(document.getElementById("biology"));
    const canvas = $("plasticity-plane"), ctx = canvas.getContext("2d");
    const W = canvas.width, H = canvas.height;
    const ext = Math.max(2.0, ...m.points.flat().map(Math.abs)) * 1.05;
    const X = (x) => ((x + ext) / (2 * ext)) * W, Y = (y) => ((ext - y) / (2 * ext)) * H;
    ctx.clearRect(0, 0, W, H);
    ctx.strokeStyle = "#dde1e6";
    ctx.beginPath(); ctx.moveTo(0, Y(0)); ctx.lineTo(W, Y(0)); ctx.moveTo(X(0), 0); ctx.lineTo(X(0), H); ctx.stroke();
    ctx.fillStyle = "rgba(29,35,43,0.25)";
    for (const p of m.points) { ctx.beginPath(); ctx.arc(X(p[0]), Y(p[1]), 2, 0, 2 * Math.PI); ctx.fill(); }
    ctx.setLineDash([6, 4]); ctx.strokeStyle = "#6b7480";
    ctx.beginPath(); ctx.moveTo(X(-ext * m.pc1[0]), Y(-ext * m.pc1[1])); ctx.lineTo(X(ext * m.pc1[0]), Y(ext * m.pc1[1])); ctx.stroke();
    ctx.setLineDash([]);
    ctx.beginPath(); ctx.arc(X(0), Y(0), X(1) - X(0), 0, 2 * Math.PI); ctx.strokeStyle = "#bfe3d1"; ctx.stroke();
    const path = (ws, color) => {
      ctx.strokeStyle = color; ctx.lineWidth = 2;
      ctx.beginPath();
      ws.forEach((w, i) => (i ? ctx.lineTo(X(w[0]), Y(w[1])) : ctx.moveTo(X(w[0]), Y(w[1]))));
      ctx.stroke(); ctx.lineWidth = 1;
      const e = ws[ws.length - 1];
      ctx.fillStyle = color; ctx.beginPath(); ctx.arc(X(e[0]), Y(e[1]), 4, 0, 2 * Math.PI); ctx.fill();
    };
    path(m.hebb.weights, "#e6550d");
    path(m.oja.weights, "#0b6e4f");
    ctx.fillStyle = "#1d232b"; ctx.beginPath(); ctx.arc(X(m.w0[0]), Y(m.w0[1]), 4, 0, 2 * Math.PI); ctx.fill();
    ctx.font = "11px sans-serif"; ctx.textAlign = "left";
    ctx.fillStyle = "#e6550d"; ctx.fillText("Hebb: leaves the picture", 6, 14);
    ctx.fillStyle = "#0b6e4f"; ctx.fillText("Oja: stops on the unit circle, along PC1", 6, 28);
    ctx.fillStyle = "#6b7480"; ctx.fillText("dashed: PC1 · black dot: start", 6, 42);
    const grew = m.hebb.stopped_early ? " (stopped, still growing)" : "";
    $("plasticity-summary").textContent =
      `Hebb: |w| = ${fmt(m.hebb.final_norm)}${grew}, |cos(w, PC1)| = ${m.hebb.cos_pc1.toFixed(3)} · ` +
      `Oja: |w| = ${fmt(m.oja.final_norm)}, |cos(w, PC1)| = ${m.oja.cos_pc1.toFixed(3)}`;
    lineChart($("plasticity-norms"), [
      { points: m.hebb.steps.map((s, i) => [s, m.hebb.norms[i]]), color: "#e6550d", width: 2, label: "Hebb" },
      { points: m.oja.steps.map((s, i) => [s, m.oja.norms[i]]), color: "#0b6e4f", width: 2, label: "Oja" },
    ], { logY: true, xLabel: "updates", yLabel: "|w|" });
  }
}
