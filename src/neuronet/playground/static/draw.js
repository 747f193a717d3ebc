// Small canvas drawing helpers for the playground: maps, points, line and bar charts.
// Written for this page; no chart library.

export const NEG = [245, 147, 34];   // orange: class 0, low values
export const POS = [8, 119, 189];    // blue: class 1, high values
const MID = [250, 250, 250];
const HATCH = [40, 40, 40];

export function bytesOf(b64) {
  const s = atob(b64);
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
  return out;
}

// 0..255 -> orange..white..blue
export function diverging(v) {
  const t = v / 255;
  const [a, b, u] = t < 0.5 ? [NEG, MID, t * 2] : [MID, POS, (t - 0.5) * 2];
  return [a[0] + (b[0] - a[0]) * u, a[1] + (b[1] - a[1]) * u, a[2] + (b[2] - a[2]) * u];
}

// weights: 0..255 with 128 = 0 -> blue..white..red
export function signed(v) {
  const t = (v - 128) / 127;
  const red = [200, 40, 40], blue = [30, 90, 200];
  const [c, u] = t >= 0 ? [red, t] : [blue, -t];
  return [250 + (c[0] - 250) * u, 250 + (c[1] - 250) * u, 250 + (c[2] - 250) * u];
}

export function fmt(x) {
  if (x === null || x === undefined || Number.isNaN(x)) return "–";
  const a = Math.abs(x);
  if (a !== 0 && (a < 1e-3 || a >= 1e5)) return x.toExponential(2);
  return a >= 100 ? x.toFixed(1) : x.toFixed(4);
}

// An n×n map of bytes drawn over the whole canvas (row 0 at the top).  With `hatch`, the
// end values 0 and 255 (a saturated or flat unit) get dark diagonal stripes.
export function drawMap(canvas, bytes, n, { hatch = false, smooth = false, palette = diverging } = {}) {
  const ctx = canvas.getContext("2d");
  const W = canvas.width, H = canvas.height;
  if (smooth) {
    const off = document.createElement("canvas");
    off.width = n; off.height = n;
    const octx = off.getContext("2d");
    const img = octx.createImageData(n, n);
    for (let i = 0; i < n * n; i++) {
      const c = palette(bytes[i]);
      img.data.set([c[0], c[1], c[2], 255], i * 4);
    }
    octx.putImageData(img, 0, 0);
    ctx.imageSmoothingEnabled = true;
    ctx.drawImage(off, 0, 0, W, H);
    return;
  }
  const img = ctx.createImageData(W, H);
  const d = img.data;
  for (let y = 0; y < H; y++) {
    const gy = Math.min(n - 1, Math.floor((y * n) / H));
    for (let x = 0; x < W; x++) {
      const v = bytes[gy * n + Math.min(n - 1, Math.floor((x * n) / W))];
      let c = palette(v);
      if (hatch && (v === 0 || v === 255) && (x + y) % 5 === 0) c = HATCH;
      const k = (y * W + x) * 4;
      d[k] = c[0]; d[k + 1] = c[1]; d[k + 2] = c[2]; d[k + 3] = 255;
    }
  }
  ctx.putImageData(img, 0, 0);
}

// points: [[x, y], ...] in plane units; the plane spans ±extent; colours from labels.
export function drawPoints(canvas, pts, labels, extent, { test = false, regression = false } = {}) {
  const ctx = canvas.getContext("2d");
  const W = canvas.width, H = canvas.height;
  for (let i = 0; i < pts.length; i++) {
    const px = ((pts[i][0] + extent) / (2 * extent)) * W;
    const py = ((extent - pts[i][1]) / (2 * extent)) * H;
    // regression targets are drawn on the output map's scale, -1..1
    const v = regression ? Math.max(0, Math.min(1, (labels[i] + 1) / 2)) * 255 : labels[i] ? 255 : 0;
    const c = diverging(v);
    ctx.beginPath();
    ctx.arc(px, py, 3.2, 0, 2 * Math.PI);
    ctx.fillStyle = test ? "rgba(255,255,255,0.9)" : `rgb(${c[0]},${c[1]},${c[2]})`;
    ctx.strokeStyle = test ? `rgb(${c[0]},${c[1]},${c[2]})` : "#fff";
    ctx.lineWidth = test ? 1.8 : 1;
    ctx.fill();
    ctx.stroke();
  }
}

function niceTicks(lo, hi, count = 4) {
  const span = hi - lo || 1;
  const step0 = span / count;
  const mag = 10 ** Math.floor(Math.log10(step0));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => span / s <= count) || 10 * mag;
  const out = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + 1e-12 * span; v += step) out.push(+v.toPrecision(12));
  return out;
}

function tickLabel(v) {
  const a = Math.abs(v);
  if (a !== 0 && (a < 1e-2 || a >= 1e4)) return v.toExponential(0);
  return String(+v.toPrecision(3));
}

const PAD = { L: 46, R: 10, T: 8, B: 26 };

// The plotting frame: data ranges (log10 of y on a log scale) and the maps to canvas pixels.
function frameOf(canvas, series, opts, ok) {
  const W = canvas.width, H = canvas.height, { L, R, T, B } = PAD;
  const ty = (v) => (opts.logY ? Math.log10(v) : v);
  const all = series.flatMap((s) => s.points.filter(ok));
  const extraY = (opts.hLines || []).map((h) => h.y).concat((opts.markers || []).map((m) => m.y));
  const xs = all.map((p) => p[0]);
  const ys = all.map((p) => ty(p[1])).concat(extraY.filter((v) => !opts.logY || v > 0).map(ty));
  let x0 = opts.xMin ?? (xs.length ? Math.min(...xs) : 0), x1 = opts.xMax ?? (xs.length ? Math.max(...xs) : 1);
  let y0 = opts.yMin !== undefined ? ty(opts.yMin) : ys.length ? Math.min(...ys) : 0;
  let y1 = opts.yMax !== undefined ? ty(opts.yMax) : ys.length ? Math.max(...ys) : 1;
  if (x1 <= x0) x1 = x0 + 1;
  if (y1 <= y0) y1 = y0 + (opts.logY ? 1 : Math.abs(y0) * 0.1 || 1);
  if (!opts.logY && opts.yMin === undefined) y0 = Math.min(y0, 0);
  if (opts.logY) { y0 = Math.floor(y0); y1 = Math.ceil(y1); if (y1 === y0) y1 += 1; }
  return {
    W, H, x0, x1, y0, y1,
    X: (v) => L + ((v - x0) / (x1 - x0)) * (W - L - R),
    Y: (v) => T + (1 - (ty(v) - y0) / (y1 - y0)) * (H - T - B),
  };
}

function drawAxes(ctx, f, opts) {
  const { L, R, T, B } = PAD, { W, H, X, Y } = f;
  ctx.font = "10px sans-serif";
  ctx.fillStyle = "#6b7480";
  ctx.strokeStyle = "#eceef1";
  ctx.lineWidth = 1;
  const yt = opts.logY
    ? Array.from({ length: f.y1 - f.y0 + 1 }, (_, i) => 10 ** (f.y0 + i)).filter((_, i, a) => a.length < 8 || i % 2 === 0)
    : niceTicks(f.y0, f.y1);
  ctx.textAlign = "right";
  for (const v of yt) {
    ctx.beginPath(); ctx.moveTo(L, Y(v)); ctx.lineTo(W - R, Y(v)); ctx.stroke();
    ctx.fillText(tickLabel(v), L - 4, Y(v) + 3);
  }
  ctx.textAlign = "center";
  for (const v of niceTicks(f.x0, f.x1)) ctx.fillText(tickLabel(v), X(v), H - B + 13);
  ctx.strokeStyle = "#9aa3ad";
  ctx.beginPath(); ctx.moveTo(L, T); ctx.lineTo(L, H - B); ctx.lineTo(W - R, H - B); ctx.stroke();
  if (opts.xLabel) ctx.fillText(opts.xLabel, (L + W - R) / 2, H - 2);
  if (opts.yLabel) {
    ctx.save(); ctx.translate(10, (T + H - B) / 2); ctx.rotate(-Math.PI / 2); ctx.fillText(opts.yLabel, 0, 0); ctx.restore();
  }
}

function drawSeries(ctx, f, s, pts) {
  const { X, Y } = f, color = s.color || "#1d232b";
  ctx.strokeStyle = color;
  ctx.lineWidth = s.width || 1.5;
  ctx.setLineDash(s.dash || []);
  ctx.beginPath();
  pts.forEach((p, i) => (i ? ctx.lineTo(X(p[0]), Y(p[1])) : ctx.moveTo(X(p[0]), Y(p[1]))));
  ctx.stroke();
  ctx.setLineDash([]);
  ctx.fillStyle = color;
  if (s.label) {
    const q = pts[pts.length - 1];
    ctx.textAlign = "right";
    ctx.fillText(s.label, Math.min(X(q[0]) - 3, f.W - PAD.R - 2), Y(q[1]) - 3);
  }
  if (s.dots || pts.length === 1) {
    for (const p of pts) { ctx.beginPath(); ctx.arc(X(p[0]), Y(p[1]), 2.5, 0, 2 * Math.PI); ctx.fill(); }
  }
}

// series: [{points: [[x, y], ...], color, dash, width, label, dots}];  opts: {logY, yMin, yMax, xMin,
// xMax, xLabel, yLabel, hLines: [{y, color, label}], markers: [{x, y, color, label}]}
export function lineChart(canvas, series, opts = {}) {
  const ctx = canvas.getContext("2d");
  const { L, R, T, B } = PAD;
  const ok = (p) => p && Number.isFinite(p[0]) && Number.isFinite(p[1]) && (!opts.logY || p[1] > 0);
  const f = frameOf(canvas, series, opts, ok);
  ctx.clearRect(0, 0, f.W, f.H);
  drawAxes(ctx, f, opts);
  ctx.save();
  ctx.beginPath(); ctx.rect(L, T - 1, f.W - L - R, f.H - T - B + 2); ctx.clip();
  for (const h of opts.hLines || []) {
    ctx.strokeStyle = ctx.fillStyle = h.color || "#c62828";
    ctx.setLineDash([5, 4]);
    ctx.beginPath(); ctx.moveTo(L, f.Y(h.y)); ctx.lineTo(f.W - R, f.Y(h.y)); ctx.stroke();
    ctx.setLineDash([]);
    if (h.label) { ctx.textAlign = "left"; ctx.fillText(h.label, L + 4, f.Y(h.y) - 4); }
  }
  for (const s of series) {
    const pts = s.points.filter(ok);
    if (pts.length) drawSeries(ctx, f, s, pts);
  }
  for (const m of opts.markers || []) {
    ctx.fillStyle = m.color || "#c62828";
    ctx.beginPath(); ctx.arc(f.X(m.x), f.Y(m.y), 5, 0, 2 * Math.PI); ctx.fill();
    if (m.label) { ctx.textAlign = "left"; ctx.fillText(m.label, f.X(m.x) + 8, f.Y(m.y) + 4); }
  }
  ctx.restore();
}

// Vertical bars, one per label; values in [0, max]; null values are drawn as "n/a".
export function barChart(canvas, labels, values, { max = 1, color = "#0b6e4f", format = fmt } = {}) {
  const ctx = canvas.getContext("2d");
  const W = canvas.width, H = canvas.height;
  ctx.clearRect(0, 0, W, H);
  const n = Math.max(labels.length, 1), T = 14, B = 16, gap = 8;
  const bw = Math.min(48, (W - gap * (n + 1)) / n);
  ctx.font = "10px sans-serif";
  ctx.textAlign = "center";
  labels.forEach((lab, i) => {
    const x = gap + i * (bw + gap);
    const v = values[i];
    ctx.fillStyle = "#eef0f2";
    ctx.fillRect(x, T, bw, H - T - B);
    if (v !== null && v !== undefined) {
      const h = Math.max(0, Math.min(1, v / max)) * (H - T - B);
      ctx.fillStyle = color;
      ctx.fillRect(x, H - B - h, bw, h);
    }
    ctx.fillStyle = "#33414f";
    ctx.fillText(v === null || v === undefined ? "n/a" : format(v), x + bw / 2, T - 3);
    ctx.fillText(lab, x + bw / 2, H - 4);
  });
}

// A small image of ±1 / 0 cells (Hopfield states): black +1, white −1, grey ✕ for 0 (dead).
export function drawSpins(canvas, cells, side) {
  const ctx = canvas.getContext("2d");
  const s = canvas.width / side;
  ctx.clearRect(0, 0, canvas.width, canvas.height);
  for (let i = 0; i < cells.length; i++) {
    const x = (i % side) * s, y = Math.floor(i / side) * s;
    ctx.fillStyle = cells[i] > 0 ? "#1d232b" : cells[i] < 0 ? "#f7f7f7" : "#b9c0c8";
    ctx.fillRect(x, y, s, s);
    if (cells[i] === 0) {
      ctx.strokeStyle = "#7d8692"; ctx.lineWidth = 1;
      ctx.beginPath(); ctx.moveTo(x + 3, y + 3); ctx.lineTo(x + s - 3, y + s - 3);
      ctx.moveTo(x + s - 3, y + 3); ctx.lineTo(x + 3, y + s - 3); ctx.stroke();
    }
  }
  ctx.strokeStyle = "#dde1e6";
  ctx.strokeRect(0, 0, canvas.width, canvas.height);
}
