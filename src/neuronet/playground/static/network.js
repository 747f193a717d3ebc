// The network tab: controls that send option changes, and the views each frame redraws.
import { barChart, bytesOf, drawMap, drawPoints, fmt, lineChart, signed } from "./draw.js";

const $ = (id) => document.getElementById(id);
const LAYER_COLORS = ["#e6550d", "#fd8d3c", "#d4a017", "#31a354", "#3182bd", "#756bb1", "#1d232b"];
const CIRCLED = ["①", "②", "③", "④", "⑤"];
const MAX_POINTS = 4000;

function decimate(points) {
  return points.length > MAX_POINTS ? points.filter((_, i) => i % 2 === 0) : points;
}

export class NetworkTab {
  constructor(send, ui) {
    this.send = send;
    this.ui = ui;
    this.run = null;
    this.train = []; this.test = []; this.prev = []; this.grads = [];
    this.playing = false;
    this.pending = null;
    this.bindControls();
  }

  bindControls() {
    for (const el of document.querySelectorAll("[data-opt]")) {
      el.addEventListener("change", () => this.send({ type: "set", changes: { [el.dataset.opt]: el.value } }));
      el.addEventListener("input", () => this.showValue(el));
    }
    const layers = document.querySelector('[data-opt="hidden-layers"]');
    const setLayers = (sizes) => this.send({ type: "set", changes: { "hidden-layers": sizes.join(",") } });
    const sizes = () => layers.value.split(",").map((s) => s.trim()).filter((s) => s);
    $("layer-add").onclick = () => { const s = sizes(); setLayers([...s, s.length ? s[s.length - 1] : "4"]); };
    $("layer-remove").onclick = () => setLayers(sizes().slice(0, -1));
    $("play").onclick = () => { this.setPlaying(true); $("status").textContent = ""; this.send({ type: "play" }); };
    $("pause").onclick = () => this.send({ type: "pause" });
    $("step").onclick = () => this.send({ type: "step" });
    $("reset").onclick = () => this.send({ type: "reset" });
    $("export").onclick = () => this.send({ type: "export" });
    $("loss-log").onchange = () => this.drawCurves();
  }

  // a slider's value, shown beside it
  showValue(el) {
    const out = document.querySelector(`[data-show="${el.dataset.opt}"]`);
    if (out) out.textContent = el.value;
  }

  setPlaying(on) {
    this.playing = on;
    $("play").classList.toggle("active", on);
  }

  hello(msg) {
    this.options = msg.options;
    for (const el of document.querySelectorAll("select[data-opt]")) {
      el.innerHTML = "";
      for (const c of msg.options[el.dataset.opt].choices) el.add(new Option(c, c));
    }
    for (const el of document.querySelectorAll("[data-opt]")) el.title = msg.options[el.dataset.opt].help;
    const presets = $("presets");
    presets.innerHTML = "";
    for (const [key, p] of Object.entries(msg.presets)) {
      const b = document.createElement("button");
      b.textContent = p.title;
      b.dataset.testid = `preset-${key}`;
      b.dataset.preset = key;
      b.onclick = () => this.send({ type: "preset", name: key });
      presets.append(b);
    }
    const rem = $("remedies");
    rem.innerHTML = "";
    for (const [k, text] of Object.entries(msg.remedies)) {
      const [title, why] = text.split(/:(.*)/s);
      const row = document.createElement("label");
      row.className = "remedy";
      row.innerHTML = `<input type="checkbox" data-remedy="${k}" data-testid="remedy-${k}">` +
        `<div><b>${CIRCLED[k - 1]} ${title}</b><br><span>${why.trim()}</span></div>`;
      row.querySelector("input").onchange = (ev) =>
        this.send({ type: "remedy", which: Number(k), on: ev.target.checked });
      rem.append(row);
    }
  }

  config(msg) {
    this.ui.clearInvalid(document.getElementById("network"));
    this.ui.showMessage(msg.notes && msg.notes.length ? msg.notes.join("; ") : "", "note");
    for (const el of document.querySelectorAll("[data-opt]")) {
      const v = msg.config[el.dataset.opt];
      el.value = Array.isArray(v) ? v.join(",") : v;
      this.showValue(el);
    }
    for (const el of document.querySelectorAll("[data-remedy]")) el.checked = !!msg.remedies[el.dataset.remedy];
    document.querySelectorAll("[data-preset]").forEach((b) => b.classList.toggle("active", b.dataset.preset === msg.preset));
    if (msg.look !== undefined) $("look").textContent = msg.look;
    else if (this.info && msg.config.dataset !== this.info.config.dataset) $("look").textContent = "";  // another scene
    if (msg.run !== this.run) {
      if (this.run !== null && this.train.length > 1) this.prev = this.train;
      this.run = msg.run;
      this.train = msg.history.map((h) => [h[0], h[1]]);
      this.test = msg.history.map((h) => [h[0], h[2]]);
      this.grads = [];
      $("status").textContent = "";
      $("export-card").classList.add("hidden");
    }
    this.info = msg;
    this.setPlaying(false);
    const digits = msg.config.dataset === "digits", encoder = msg.config.dataset === "encoder";
    $("plane-card").classList.toggle("hidden", !msg.plane);
    $("units-card").classList.toggle("hidden", !msg.plane);
    $("weights-card").classList.toggle("hidden", !digits);
    $("codes-card").classList.toggle("hidden", !encoder);
  }

  frame(f) {
    if (f.run === this.run && f.train_loss !== null) {
      this.train = decimate([...this.train, [f.epoch, f.train_loss]]);
      this.test = decimate([...this.test, [f.epoch, f.test_loss]]);
      f.layers.forEach((l, i) => {
        this.grads[i] = decimate([...(this.grads[i] || []), [f.epoch, l.grad_norm]]);
      });
    }
    if (f.playing === false) this.setPlaying(false);
    if (f.diverged) {
      $("status").textContent = "diverged: weights rolled back";
      $("status").className = "bad";
    }
    $("train-loss").textContent = fmt(f.train_loss);
    $("test-loss").textContent = fmt(f.test_loss);
    $("train-acc").textContent = f.train_acc === null ? "–" : (100 * f.train_acc).toFixed(1) + "%";
    $("test-acc").textContent = f.test_acc === null ? "–" : (100 * f.test_acc).toFixed(1) + "%";
    $("epoch").textContent = f.epoch.toFixed(2);
    $("updates").textContent = f.updates;
    this.layerTable(f.layers);
    if (!this.pending) requestAnimationFrame(() => this.draw());
    this.pending = f;
  }

  paused() { this.setPlaying(false); }

  layerTable(layers) {
    const body = $("layer-table").querySelector("tbody");
    if (body.rows.length !== layers.length) {
      body.innerHTML = "";
      layers.forEach((_, i) => {
        const n = i + 1;
        body.insertAdjacentHTML("beforeend",
          `<tr><td></td><td data-testid="saturation-layer-${n}"></td><td data-testid="mean-prime-layer-${n}"></td>` +
          `<td data-testid="dead-layer-${n}"></td><td data-testid="grad-norm-layer-${n}"></td></tr>`);
      });
    }
    layers.forEach((l, i) => {
      const c = body.rows[i].cells;
      const last = i === layers.length - 1;
      c[0].textContent = `${i + 1}${last ? " out" : ""} · ${l.unit} (${l.units})`;
      c[1].textContent = l.saturated === null ? "n/a" : l.saturated.toFixed(3);
      c[1].className = !last && l.saturated !== null && l.saturated > 0.5 ? "hot" : "";
      c[2].textContent = fmt(l.mean_derivative);
      c[3].textContent = l.dead_count === null ? "–" : `${l.dead_count}/${l.units}`;
      c[3].className = l.dead_count ? "hot" : "";
      c[4].textContent = fmt(l.grad_norm);
    });
  }

  draw() {
    const f = this.pending;
    this.pending = null;
    if (!f) return;
    this.drawCurves();
    const labels = f.layers.map((l, i) => (i === f.layers.length - 1 ? "out" : `L${i + 1}`));
    barChart($("sat-chart"), labels, f.layers.map((l) => l.saturated), { color: "#c62828", format: (v) => v.toFixed(2) });
    lineChart($("grad-chart"), this.grads.map((pts, i) => ({
      points: pts, color: LAYER_COLORS[Math.round((i * (LAYER_COLORS.length - 1)) / Math.max(1, this.grads.length - 1))],
      label: labels[i],
    })), { logY: true, xLabel: "epoch" });
    if (f.output_map && this.info && this.info.points) this.drawPlane(f);
    if (f.weight_images) this.drawWeights(f.weight_images);
    if (f.codes) this.drawCodes(f.codes);
  }

  drawCurves() {
    const series = [
      { points: this.prev, color: "#c3c9d0", width: 1.5 },
      { points: this.test, color: "#0877bd", width: 1.5 },
      { points: this.train, color: "#1d232b", width: 2 },
    ];
    lineChart($("loss-chart"), series, { logY: $("loss-log").checked, xLabel: "epoch", yLabel: "loss" });
  }

  drawPlane(f) {
    const canvas = $("output-map");
    drawMap(canvas, bytesOf(f.output_map), f.grid, { smooth: true });
    const p = this.info.points, reg = this.info.task === "regression", ext = this.info.extent;
    drawPoints(canvas, p.train, p.y_train, ext, { regression: reg });
    drawPoints(canvas, p.test, p.y_test, ext, { regression: reg, test: true });
    this.drawUnits(f);
  }

  drawUnits(f) {
    const box = $("unit-maps");
    const px = f.unit_grid >= 24 ? 72 : 48;
    const shape = f.unit_maps.map((m, i) => `${m.length}${f.layers[i].unit}`).join(",") + "@" + px;
    if (box.dataset.shape !== shape) {
      box.innerHTML = "";
      f.unit_maps.forEach((maps, i) => {
        const col = document.createElement("div");
        col.className = "layer-maps";
        const units = f.layers[i].units;
        const more = units > maps.length ? ` (first ${maps.length} of ${units})` : "";
        col.innerHTML = `<h4>layer ${i + 1}: ${f.layers[i].unit}${more}</h4><div class="grid"></div>`;
        for (let j = 0; j < maps.length; j++) {
          const c = document.createElement("canvas");
          c.width = px; c.height = px;
          c.title = `layer ${i + 1}, unit ${j + 1}`;
          col.querySelector(".grid").append(c);
        }
        box.append(col);
      });
      box.dataset.shape = shape;
    }
    const cols = box.querySelectorAll(".layer-maps");
    f.unit_maps.forEach((maps, i) => {
      const canvases = cols[i].querySelectorAll("canvas");
      maps.forEach((m, j) => drawMap(canvases[j], bytesOf(m), f.unit_grid, { hatch: true }));
    });
    $("units-title").textContent = f.unit_maps.length ? "Hidden units over the plane" : "No hidden layer";
  }

  drawWeights(w) {
    const box = $("weight-images");
    const bytes = bytesOf(w.bytes), k = w.side * w.side;
    if (box.childElementCount !== w.n) {
      box.innerHTML = "";
      for (let j = 0; j < w.n; j++) {
        const c = document.createElement("canvas");
        c.width = 40; c.height = 40;
        c.title = `hidden unit ${j + 1}`;
        box.append(c);
      }
    }
    [...box.children].forEach((c, j) => drawMap(c, bytes.subarray(j * k, (j + 1) * k), w.side, { palette: signed }));
  }

  drawCodes(codes) {
    const canvas = $("codes"), ctx = canvas.getContext("2d");
    const bytes = bytesOf(codes.bytes);
    const cw = canvas.width / codes.cols, ch = canvas.height / codes.rows;
    for (let r = 0; r < codes.rows; r++) {
      for (let c = 0; c < codes.cols; c++) {
        const v = 255 - bytes[r * codes.cols + c];
        ctx.fillStyle = `rgb(${v},${v},${v})`;
        ctx.fillRect(c * cw, r * ch, cw - 1, ch - 1);
      }
    }
  }

  exported(msg) {
    $("export-card").classList.remove("hidden");
    $("export-command").textContent = msg.command;
    $("export-toml").textContent = msg.toml;
    $("export-note").textContent = msg.note;
    const d = $("export-data");
    d.innerHTML = "";
    if (msg.data_file) {
      d.append("The 2-D set is not one of the CLI's named sets: ");
      const a = document.createElement("a");
      a.href = msg.data_url;
      a.download = msg.data_file;
      a.textContent = `download ${msg.data_file}`;
      a.dataset.testid = "export-data-file";
      d.append(a, " and run the command next to it.");
    }
  }
}
