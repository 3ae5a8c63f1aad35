// The playground's pictures: the decision region or fitted curve, the error curve, each unit's
// output over the plane and the error surface of two weights. Every number drawn comes from
// the server (the network's outputs on a grid, E and its quadratic approximation from
// dg.analysis); this file only scales, colours and traces contour lines through them.
"use strict";

const PLOT = { left: 40, top: 8, size: 290 };   // the square plot area of the region canvas

// ---- colours and scales ------------------------------------------------------------------
function colourFor(p, pale = 0) {
  // p in [0, 1]: orange (0, class 0) through white-ish to blue (1, class 1); pale: mixed with white
  const c0 = [245, 166, 35], c1 = [59, 130, 196], w = Math.max(0, Math.min(1, p));
  const mix = c0.map((c, k) => Math.round((c + (c1[k] - c) * w) * (1 - pale) + 255 * pale));
  return `rgb(${mix.join(",")})`;
}

function niceTicks(lo, hi, count = 5) {
  // round-numbered ticks covering [lo, hi]
  const span = hi - lo || 1, raw = span / count, power = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * power).find((s) => s >= raw);
  const ticks = [];
  for (let t = Math.ceil(lo / step) * step; t <= hi + 1e-9 * span; t += step) ticks.push(+t.toPrecision(12));
  return ticks;
}

function tickLabel(v) {
  return Math.abs(v) >= 1e4 || (Math.abs(v) < 1e-3 && v !== 0) ? v.toExponential(0) : String(+v.toPrecision(3));
}

function linear(lo, hi, a, b) {
  return (v) => a + (v - lo) / (hi - lo || 1) * (b - a);
}

function axes2d(ctx, xs, ys, names) {
  // ticks and labels round PLOT's square for the data ranges xs = [lo, hi], ys = [lo, hi]
  const { left, top, size } = PLOT;
  const sx = linear(xs[0], xs[1], left, left + size), sy = linear(ys[0], ys[1], top + size, top);
  ctx.strokeStyle = "#555"; ctx.fillStyle = "#333"; ctx.lineWidth = 1; ctx.font = "11px sans-serif";
  ctx.strokeRect(left, top, size, size);
  ctx.textAlign = "center";
  for (const t of niceTicks(xs[0], xs[1])) {
    ctx.beginPath(); ctx.moveTo(sx(t), top + size); ctx.lineTo(sx(t), top + size + 4); ctx.stroke();
    ctx.fillText(tickLabel(t), sx(t), top + size + 15);
  }
  ctx.textAlign = "right";
  for (const t of niceTicks(ys[0], ys[1])) {
    ctx.beginPath(); ctx.moveTo(left - 4, sy(t)); ctx.lineTo(left, sy(t)); ctx.stroke();
    ctx.fillText(tickLabel(t), left - 6, sy(t) + 4);
  }
  ctx.textAlign = "left";
  ctx.canvas.dataset.ticks = JSON.stringify([niceTicks(xs[0], xs[1]), niceTicks(ys[0], ys[1])]);
  ctx.textAlign = "right";
  ctx.fillText(names[0], left + size, top + size + 28);  // along the x axis, at its end
  ctx.save(); ctx.translate(10, top); ctx.rotate(-Math.PI / 2); ctx.fillText(names[1], 0, 0); ctx.restore();
  ctx.textAlign = "left";
  return { sx, sy };
}

function colourBar(ctx, y, lo, hi, title, discrete) {
  // a horizontal colour scale under the plot, from lo (orange) to hi (blue)
  const { left, size } = PLOT;
  for (let k = 0; k < size; k++) {
    const p = k / (size - 1);
    ctx.fillStyle = colourFor(discrete ? (p >= 0.5 ? 1 : 0) : p, 0.35);
    ctx.fillRect(left + k, y, 1.5, 9);
  }
  ctx.strokeStyle = "#777"; ctx.strokeRect(left, y, size, 9);
  ctx.fillStyle = "#333"; ctx.font = "11px sans-serif"; ctx.textAlign = "center";
  const ticks = discrete ? [lo, (lo + hi) / 2, hi] : niceTicks(lo, hi, 4);
  for (const t of ticks) ctx.fillText(tickLabel(t), linear(lo, hi, left, left + size)(t), y + 21);
  ctx.textAlign = "left";
  ctx.fillText(title, left, y + 34);
}

function dot(ctx, x, y, colour, hollow) {
  ctx.beginPath();
  ctx.arc(x, y, 4.5, 0, 2 * Math.PI);
  ctx.lineWidth = 2;
  ctx.strokeStyle = hollow ? colour : "#fff";
  ctx.fillStyle = colour;
  if (!hollow) ctx.fill();
  ctx.stroke();
}

// ---- the decision region or the fitted curve ------------------------------------------------
function drawRegion(view, data, options) {
  // options: { showTest, discrete }; the canvas keeps what it drew in data-* for the tests
  const canvas = $("region"), ctx = canvas.getContext("2d");
  ctx.clearRect(0, 0, canvas.width, canvas.height);
  const axes = view.axes, first = (a) => a[0], last = (a) => a[a.length - 1];
  const { left, top, size } = PLOT;
  canvas.dataset.values = JSON.stringify(view.values.slice(0, 5));
  canvas.dataset.discrete = options.discrete ? "1" : "0";
  canvas.dataset.test = options.showTest && data.Xv.length ? String(data.Xv.length) : "0";
  if (axes.length === 2) {
    const regression = data.kind !== "classes";
    const all = view.values.filter((v) => v !== null).concat(regression ? data.t : []);
    const lo = regression ? Math.min(...all) : 0, hi = regression ? Math.max(...all) : 1;
    const scale = linear(lo, hi, 0, 1);
    const shade = (v) => (options.discrete ? (scale(v) >= 0.5 ? 1 : 0) : scale(v));
    const n = axes[0].length, m = axes[1].length, cw = size / (n - 1), ch = size / (m - 1);
    const { sx, sy } = axes2d(ctx, [first(axes[0]), last(axes[0])], [first(axes[1]), last(axes[1])], ["x₁", "x₂"]);
    ctx.save(); ctx.beginPath(); ctx.rect(left, top, size, size); ctx.clip();
    view.values.forEach((v, k) => {
      ctx.fillStyle = v === null ? "#ccc" : colourFor(shade(v), 0.45);
      ctx.fillRect(sx(axes[0][k % n]) - cw / 2, sy(axes[1][Math.floor(k / n)]) - ch / 2, cw + 1, ch + 1);
    });
    const points = (X, t, hollow) => X.forEach((x, k) => dot(ctx, sx(x[0]), sy(x[1]), colourFor(scale(t[k])), hollow));
    points(data.X, data.t, false);
    if (options.showTest) points(data.Xv, data.tv, true);
    ctx.restore();
    colourBar(ctx, top + size + 36, lo, hi, regression ? "the network's output y" : "the network's p(class 1)", options.discrete);
    return regression ? "colour: the network's output; filled dots: training, rings: validation"
      : `colour: p(class 1) — blue class 1, orange class 0${options.discrete ? ", cut at ½" : ""}; filled dots: training, rings: validation`;
  }
  const ys = view.values.filter((v) => v !== null).concat(data.t, data.tv);
  const lo = Math.min(...ys), hi = Math.max(...ys), pad = 0.1 * (hi - lo || 1);
  const { sx, sy } = axes2d(ctx, [first(axes[0]), last(axes[0])], [lo - pad, hi + pad], ["x", "y"]);
  ctx.strokeStyle = "#1d4f91"; ctx.lineWidth = 2.5; ctx.beginPath();
  view.values.forEach((v, k) => (k ? ctx.lineTo : ctx.moveTo).call(ctx, sx(axes[0][k]), sy(v)));
  ctx.stroke();
  data.X.forEach((x, k) => dot(ctx, sx(x[0]), sy(data.t[k]), "#f5a623", false));
  if (options.showTest) data.Xv.forEach((x, k) => dot(ctx, sx(x[0]), sy(data.tv[k]), "#f5a623", true));
  return "line: the network's output y(x); filled dots: training, rings: validation";
}

// ---- the error per pattern, by epoch ------------------------------------------------------------
function drawCurves(history) {
  const canvas = $("curves"), ctx = canvas.getContext("2d");
  const { width, height } = canvas;
  ctx.clearRect(0, 0, width, height);
  const { error, val_error: val } = history;
  const all = error.concat(val).filter((v) => v !== null && v > 0);
  ctx.fillStyle = "#555"; ctx.font = "12px sans-serif";
  if (!all.length) { ctx.fillText("train to see the error fall", 60, height / 2); return; }
  const box = { left: 46, right: width - 10, top: 8, bottom: height - 34 };
  let lo = Math.floor(Math.log10(Math.min(...all))), hi = Math.ceil(Math.log10(Math.max(...all)));
  if (hi === lo) hi += 1;
  const sx = linear(0, Math.max(error.length, 1), box.left, box.right);
  const sy = (v) => linear(lo, hi, box.bottom, box.top)(Math.log10(Math.max(v, 1e-300)));
  ctx.strokeStyle = "#555"; ctx.lineWidth = 1; ctx.strokeRect(box.left, box.top, box.right - box.left, box.bottom - box.top);
  ctx.font = "11px sans-serif"; ctx.fillStyle = "#333"; ctx.textAlign = "right";
  const every = Math.ceil((hi - lo) / 5);
  for (let p = lo; p <= hi; p += every) {
    ctx.beginPath(); ctx.moveTo(box.left - 4, sy(10 ** p)); ctx.lineTo(box.left, sy(10 ** p)); ctx.stroke();
    ctx.fillText(`1e${p}`, box.left - 6, sy(10 ** p) + 4);
  }
  ctx.textAlign = "center";
  for (const t of niceTicks(0, Math.max(error.length, 1), 5)) {
    ctx.beginPath(); ctx.moveTo(sx(t), box.bottom); ctx.lineTo(sx(t), box.bottom + 4); ctx.stroke();
    ctx.fillText(String(t), sx(t), box.bottom + 15);
  }
  ctx.fillText("epoch", (box.left + box.right) / 2, height - 4);
  ctx.textAlign = "left";
  const curve = (values, colour, dash) => {
    ctx.strokeStyle = colour; ctx.setLineDash(dash); ctx.lineWidth = 2; ctx.beginPath();
    let started = false;
    values.forEach((v, k) => {
      if (v === null || v <= 0) return;
      (started ? ctx.lineTo : ctx.moveTo).call(ctx, sx(k + 1), sy(v));
      started = true;
    });
    ctx.stroke();
    ctx.setLineDash([]);
  };
  canvas.dataset.first = error[0];
  canvas.dataset.last = error[error.length - 1];
  curve(error, "#1d4f91", []);
  curve(val, "#c0392b", [6, 4]);
}

// ---- a unit's output over the plane -------------------------------------------------------------
function unitImage(values, axes, activation) {
  // a data: URL of the unit's output, one pixel per grid point (1-D inputs: a curve)
  const canvas = document.createElement("canvas");
  const range = unitRange(values, activation);
  if (axes.length === 2) {
    const n = axes[0].length, m = axes[1].length;
    canvas.width = n; canvas.height = m;
    const ctx = canvas.getContext("2d");
    values.forEach((v, k) => {
      ctx.fillStyle = v === null ? "#ccc" : colourFor(linear(range[0], range[1], 0, 1)(v));
      ctx.fillRect(k % n, m - 1 - Math.floor(k / n), 1, 1);
    });
  } else {
    canvas.width = 40; canvas.height = 40;
    const ctx = canvas.getContext("2d");
    ctx.fillStyle = "#fff"; ctx.fillRect(0, 0, 40, 40);
    ctx.strokeStyle = "#1d4f91"; ctx.lineWidth = 2; ctx.beginPath();
    const sy = linear(range[0], range[1], 37, 3);
    values.forEach((v, k) => (k ? ctx.lineTo : ctx.moveTo).call(ctx, k * 40 / (values.length - 1), sy(v)));
    ctx.stroke();
  }
  return canvas.toDataURL();
}

function unitRange(values, activation) {
  // the colour scale of a unit: its activation's range (tanh −1…1, sigmoid 0…1), else its own
  if (activation === "tanh") return [-1, 1];
  if (activation === "sigmoid") return [0, 1];
  const finite = values.filter((v) => v !== null);
  const lo = Math.min(...finite), hi = Math.max(...finite);
  return hi > lo ? [lo, hi] : [lo - 1, hi + 1];
}

function drawUnitLarge(canvas, values, axes, activation, title) {
  // the large view of one unit's output, with ticks and its colour scale
  const ctx = canvas.getContext("2d");
  ctx.clearRect(0, 0, canvas.width, canvas.height);
  canvas.dataset.values = JSON.stringify(values);
  const range = unitRange(values, activation);
  const first = (a) => a[0], last = (a) => a[a.length - 1];
  if (axes.length === 2) {
    const n = axes[0].length, m = axes[1].length;
    const { sx, sy } = axes2d(ctx, [first(axes[0]), last(axes[0])], [first(axes[1]), last(axes[1])], ["x₁", "x₂"]);
    const cw = PLOT.size / (n - 1), ch = PLOT.size / (m - 1);
    ctx.save(); ctx.beginPath(); ctx.rect(PLOT.left, PLOT.top, PLOT.size, PLOT.size); ctx.clip();
    values.forEach((v, k) => {
      ctx.fillStyle = v === null ? "#ccc" : colourFor(linear(range[0], range[1], 0, 1)(v), 0.2);
      ctx.fillRect(sx(axes[0][k % n]) - cw / 2, sy(axes[1][Math.floor(k / n)]) - ch / 2, cw + 1, ch + 1);
    });
    ctx.restore();
    colourBar(ctx, PLOT.top + PLOT.size + 36, range[0], range[1], title, false);
    return;
  }
  const { sx, sy } = axes2d(ctx, [first(axes[0]), last(axes[0])], range, ["x", title]);
  ctx.strokeStyle = "#1d4f91"; ctx.lineWidth = 2.5; ctx.beginPath();
  values.forEach((v, k) => (k ? ctx.lineTo : ctx.moveTo).call(ctx, sx(axes[0][k]), sy(v)));
  ctx.stroke();
}

// ---- the error surface --------------------------------------------------------------------------
function contourSegments(grid, xs, ys, level) {
  // marching squares: the segments where the bilinear interpolation of grid crosses level
  const segments = [];
  const at = (r, c) => grid[r][c];
  for (let r = 0; r + 1 < ys.length; r++) {
    for (let c = 0; c + 1 < xs.length; c++) {
      const corners = [[r, c], [r, c + 1], [r + 1, c + 1], [r + 1, c]];
      const values = corners.map(([i, j]) => at(i, j));
      if (values.some((v) => v === null)) continue;
      const crossings = [];
      for (let e = 0; e < 4; e++) {
        const [a, b] = [e, (e + 1) % 4], va = values[a], vb = values[b];
        if ((va < level) !== (vb < level)) {
          const f = (level - va) / (vb - va);
          const [ra, ca] = corners[a], [rb, cb] = corners[b];
          crossings.push([xs[ca] + f * (xs[cb] - xs[ca]), ys[ra] + f * (ys[rb] - ys[ra])]);
        }
      }
      if (crossings.length === 2) segments.push(crossings);
      if (crossings.length === 4) segments.push([crossings[0], crossings[1]], [crossings[2], crossings[3]]);
    }
  }
  return segments;
}

function drawSurface(canvas, surface, path) {
  // E filled and as solid contours, the quadratic approximation as dashed contours, the path
  const ctx = canvas.getContext("2d");
  ctx.clearRect(0, 0, canvas.width, canvas.height);
  const [xs, ys] = surface.axes, E = surface.E, Q = surface.quadratic;
  const finite = E.flat().filter((v) => v !== null);
  const lo = Math.min(...finite), hi = Math.max(...finite);
  const shade = (v) => Math.log1p(v - lo) / Math.log1p(hi - lo || 1);
  const { sx, sy } = axes2d(ctx, [xs[0], xs[xs.length - 1]], [ys[0], ys[ys.length - 1]], surface.pair);
  const cw = PLOT.size / (xs.length - 1), ch = PLOT.size / (ys.length - 1);
  ctx.save(); ctx.beginPath(); ctx.rect(PLOT.left, PLOT.top, PLOT.size, PLOT.size); ctx.clip();
  E.forEach((row, r) => row.forEach((v, c) => {
    const g = v === null ? 200 : Math.round(255 - 150 * shade(v));
    ctx.fillStyle = `rgb(${g},${g},255)`;
    ctx.fillRect(sx(xs[c]) - cw / 2, sy(ys[r]) - ch / 2, cw + 1, ch + 1);
  }));
  const levels = Array.from({ length: 9 }, (_, k) => lo + (hi - lo) * ((k + 1) / 10) ** 2);
  const trace = (grid, colour, dash) => {
    ctx.strokeStyle = colour; ctx.setLineDash(dash); ctx.lineWidth = 1.3;
    for (const level of levels) {
      for (const [[x1, y1], [x2, y2]] of contourSegments(grid, xs, ys, level)) {
        ctx.beginPath(); ctx.moveTo(sx(x1), sy(y1)); ctx.lineTo(sx(x2), sy(y2)); ctx.stroke();
      }
    }
    ctx.setLineDash([]);
  };
  trace(E, "#1b1f24", []);
  trace(Q, "#c0392b", [5, 4]);
  if (path.length > 1) {
    ctx.strokeStyle = "#f5a623"; ctx.lineWidth = 2.5; ctx.beginPath();
    path.forEach(([u, v], k) => (k ? ctx.lineTo : ctx.moveTo).call(ctx, sx(u), sy(v)));
    ctx.stroke();
  }
  ctx.restore();
  dot(ctx, sx(surface.centre[0]), sy(surface.centre[1]), "#1d4f91", false);
  ctx.fillStyle = "#333"; ctx.font = "11px sans-serif";
  ctx.fillText(`E from ${tickLabel(lo)} (light) to ${tickLabel(hi)} (dark); blue dot: now`, 4, PLOT.top + PLOT.size + 40);
  ctx.fillText("solid: E · dashed red: quadratic Ê (eq. 2.13) · orange: path", 4, PLOT.top + PLOT.size + 56);
  canvas.dataset.centre = JSON.stringify(surface.centre);
  canvas.dataset.eHat = surface.E_hat;
  canvas.dataset.mid = E[(ys.length - 1) / 2][(xs.length - 1) / 2];
}
