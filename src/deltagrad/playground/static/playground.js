// The deltagrad playground page. It computes nothing of the network: every a, z, δ, gradient
// and update shown comes from the server's tracer (explain.backprop) as JSON; this script
// only lays out, formats and draws those numbers.
"use strict";

const $ = (id) => document.getElementById(id);
const SVG = "http://www.w3.org/2000/svg";
const CHUNK = 10;          // epochs per training request while playing
const DIGITS = 4;          // decimals on the diagram
const GAP = 200;           // pixels between layers in the diagram
const HALF = 46;           // half a unit's width

const state = {
  options: null, config: null, sizes: [], data: null, weights: null, step: null,
  epoch: 0, history: { error: [], val_error: [] }, stopper: null, running: false,
  stage: Infinity, pattern: 0, view: null, editing: null,
};

// ---- talking to the server ------------------------------------------------------------------
async function post(path, body, binary = false) {
  const response = await fetch(path, {
    method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body),
  });
  if (!response.ok) {
    let message = response.statusText;
    try { message = (await response.json()).error; } catch (e) { /* keep the status text */ }
    throw new Error(message);
  }
  return binary ? response.blob() : response.json();
}

function showError(err) {
  const box = $("error");
  box.textContent = err ? String(err.message || err) : "";
  box.hidden = !err;
}

async function guarded(action) {
  try { showError(null); await action(); } catch (err) { stopTraining(); showError(err); }
}

// ---- the form <-> the configuration ---------------------------------------------------------
const NUMBER_FIELDS = ["n", "noise", "validation", "seed", "lr", "epochs", "batch_size", "lam",
  "patience"];
const CHOICE_FIELDS = ["dataset", "activation", "output", "loss", "init", "mode", "regularizer"];

function fillChoices() {
  const o = state.options;
  const labels = { "example-2.1.3": "§2.1.3 worked example", "question-1": "§3.4 question 1",
    "question-2": "§3.4 question 2", csv: "own data (CSV)", sin: "sin(2πx) regression",
    xor: "XOR", and: "AND", or: "OR", nand: "NAND", nor: "NOR" };
  fill($("dataset"), o.datasets, labels);
  for (const name of CHOICE_FIELDS.slice(1)) fill($(name), o.choices[name], {});
}

function fill(select, values, labels) {
  select.replaceChildren(...values.map((v) => new Option(labels[v] || v.replaceAll("_", " "), v)));
}

function toForm(config) {
  for (const name of NUMBER_FIELDS.concat(CHOICE_FIELDS)) $(name).value = config[name];
  $("hidden").value = config.hidden.join(", ");
  $("alphas").value = config.alphas ? config.alphas.join(", ") : "";
  $("early_stopping").checked = config.early_stopping;
  const generated = state.options.generated.includes(config.dataset);
  for (const name of ["n", "noise"]) $(name).disabled = !generated;
  $("validation").disabled = !generated && config.dataset !== "csv";
}

function numberList(text, field, separators = /[\s,;]+/) {
  const parts = text.split(separators).filter((s) => s !== "");
  const values = parts.map(Number);
  if (values.some((v) => !Number.isFinite(v))) throw new Error(`${field}: numbers separated by commas, got "${text}"`);
  return values;
}

function fromForm() {
  const config = { ...state.config };
  for (const name of CHOICE_FIELDS) config[name] = $(name).value;
  for (const name of NUMBER_FIELDS) {
    const text = $(name).value.trim();
    const value = Number(text);
    if (text === "" || !Number.isFinite(value)) throw new Error(`${$(name).labels[0].textContent}: a number is needed, got "${text}"`);
    config[name] = value;
  }
  config.hidden = numberList($("hidden").value, "Hidden layers", /[\s,;-]+/);
  const alphas = $("alphas").value.trim();
  config.alphas = alphas === "" ? null : numberList(alphas, "α per layer");
  config.early_stopping = $("early_stopping").checked;
  if (JSON.stringify(config.hidden) !== JSON.stringify(state.config.hidden)) config.weights = {};
  if (config.dataset !== "csv") config.points = null;
  return config;
}

function preset(dataset) {
  const config = { ...state.options.defaults, ...state.options.presets[dataset], dataset };
  config.points = dataset === "csv" && state.config ? state.config.points : null;
  return config;
}

// ---- building an experiment -----------------------------------------------------------------
async function build(config) {
  const result = await post("/api/experiment", { config, pattern: 0 });
  stopTraining();
  Object.assign(state, {
    config: result.config, sizes: result.sizes, data: result.data, weights: result.weights,
    epoch: 0, history: { error: [], val_error: [] }, stopper: null, pattern: 0, stage: Infinity,
  });
  toForm(state.config);
  fillPatterns();
  applyEvaluation(result);
  applyStep(result.step);
  saveToUrl();
}

function saveToUrl() {
  const config = { ...state.config };
  for (const key of Object.keys(config)) {
    if (JSON.stringify(config[key]) === JSON.stringify(state.options.defaults[key])) delete config[key];
  }
  history.replaceState(null, "", "#" + encodeURIComponent(JSON.stringify(config)));
}

function loadFromUrl() {
  if (location.hash.length < 2) return null;
  try { return JSON.parse(decodeURIComponent(location.hash.slice(1))); } catch (e) { return null; }
}

function fillPatterns() {
  const d = state.data;
  const options = d.X.map((x, n) => new Option(
    `${n + 1}: x = (${x.map((v) => +v.toFixed(3)).join(", ")}), t = ${+d.t[n].toFixed(3)}`, n));
  options.push(new Option("own pattern…", "own"));
  $("pattern").replaceChildren(...options);
  $("own").hidden = true;
}

// ---- training -------------------------------------------------------------------------------
async function trainChunk(epochs) {
  const result = await post("/api/train", {
    config: state.config, weights: state.weights, epoch: state.epoch, epochs,
    stopper: state.stopper, pattern: currentPattern(),
  });
  state.weights = result.weights;
  state.epoch = result.epoch;
  state.stopper = result.stopper;
  state.history.error.push(...result.history.error);
  state.history.val_error.push(...result.history.val_error);
  applyEvaluation(result);
  applyStep(result.step);
  if (result.notes.length) showError(result.notes.join(" "));
  return result.stopped;
}

async function trainLoop() {
  state.running = true;
  $("train").textContent = "⏸ Pause";
  while (state.running && state.epoch < state.config.epochs) {
    const stopped = await trainChunk(CHUNK);
    if (stopped) break;
  }
  stopTraining();
}

function stopTraining() {
  state.running = false;
  $("train").textContent = "▶ Train";
}

// ---- the numbers from the server ------------------------------------------------------------
function applyEvaluation(result) {
  state.view = result.view;
  const parts = [`epoch ${state.epoch} of ${state.config.epochs}`,
    `training error per pattern ${fmt(result.error)}`];
  if (result.accuracy !== undefined) {
    parts.push(`correct ${result.correct}/${state.data.X.length} (${(100 * result.accuracy).toFixed(1)}%)`);
  }
  if (result.val_accuracy !== undefined) parts.push(`validation ${(100 * result.val_accuracy).toFixed(1)}%`);
  if (result.stopped === "early") parts.push(`early stopping: best epoch ${state.stopper.best_epoch} restored`);
  if (result.stopped === "diverged") parts.push("training diverged: lower η");
  $("metrics").textContent = parts.join(" · ");
  $("metrics").dataset.correct = result.correct === undefined ? "" : result.correct;
  $("metrics").dataset.epoch = state.epoch;
  $("status").textContent = `${state.sizes.join("-")} network on ${$("dataset").selectedOptions[0].textContent}, epoch ${state.epoch}`;
  drawRegion();
  drawCurves();
}

function applyStep(step) {
  state.step = step;
  state.lines = {};
  for (const section of step.sections) {
    for (const line of section.lines) state.lines[line.key] = { ...line, section: section.title };
  }
  state.stages = stages();
  drawDiagram();
  showStage();
  renderSolution();
}

function fmt(value) {
  return value === null || value === undefined ? "–" : Number(value).toFixed(DIGITS);
}

function currentPattern() {
  return state.pattern;
}

// ---- step mode: the stages of one pattern's pass ---------------------------------------------
function stages() {
  const L = state.sizes.length - 1;
  const list = [{ kind: "inputs" }];
  for (let l = 1; l <= L; l++) for (let j = 1; j <= state.sizes[l]; j++) list.push({ kind: "forward", l, j });
  list.push({ kind: "error" });
  for (let k = 1; k <= state.sizes[L]; k++) list.push({ kind: "rule1", l: L, j: k });
  for (let l = L - 1; l >= 1; l--) for (let j = 1; j <= state.sizes[l]; j++) list.push({ kind: "rule2", l, j });
  for (let l = 1; l <= L; l++) list.push({ kind: "rule3", l });
  for (let l = 1; l <= L; l++) list.push({ kind: "update", l });
  return list;
}

function revealed(kind, l, j) {
  // the index of the stage that shows this quantity, compared with the current stage
  const index = state.stages.findIndex((s) => s.kind === kind && s.l === l && (j === undefined || s.j === j));
  return index >= 0 && index <= state.stage;
}

function zKey(l, j) {
  return l === state.sizes.length - 1 ? `y_${j}` : `z^(${l})_${j}`;
}

function lineText(key, rule) {
  const line = state.lines[key];
  if (!line) return "";
  const pieces = [key.replace("delta", "δ").replace("sum", "Σ_k w_kj δ_k")];
  if (rule) pieces.push(rule);
  if (line.formula) pieces.push(line.formula);
  if (line.working) pieces.push(line.working);
  pieces.push(fmt(line.value));
  return pieces.join(" = ");
}

function stageLines(stage) {
  const L = state.sizes.length - 1;
  const { kind, l, j } = stage;
  if (kind === "inputs") {
    const keys = Object.keys(state.lines).filter((k) => /^[xt]_\d+$/.test(k));
    return ["Inputs and targets of the pattern", ...keys.map((k) => lineText(k))];
  }
  if (kind === "forward") {
    const source = l === 1 ? "x" : "z";
    return [`Forward, layer ${l}, unit ${j} (eq. 1.2–1.3)`,
      lineText(`a^(${l})_${j}`, `Σ_i w^(${l})_${j}i ${source}_i + w^(${l})_${j}0`), lineText(zKey(l, j))];
  }
  if (kind === "error") return [state.step.sections.find((s) => s.title.startsWith("Error")).title, lineText("E")];
  if (kind === "rule1") return [`Rule 1, output unit ${j}: ${sectionOf(`delta^(${L})_${j}`).note}`, lineText(`delta^(${L})_${j}`)];
  if (kind === "rule2") {
    return [`Rule 2, hidden unit ${j} of layer ${l}: δ = h′(a) Σ_k w_kj δ_k (eq. 3.10)`,
      lineText(`h'(a^(${l})_${j})`), lineText(`sum^(${l})_${j}`), lineText(`delta^(${l})_${j}`)];
  }
  const suffix = kind === "rule3" ? "" : " new";
  const title = kind === "rule3" ? `Rule 3, layer ${l}: ∂E/∂w_ji = δ_j z_i (eq. 3.11)`
    : `Update, layer ${l}: w ← w − η ∂E/∂w (eq. 2.20), η = ${state.config.lr}`;
  const keys = Object.keys(state.lines).filter((k) => k.startsWith(kind === "rule3" ? `dE/dw^(${l})_` : `w^(${l})_`) && k.endsWith(suffix));
  return [title, ...keys.map((k) => lineText(k))];
}

function sectionOf(key) {
  return state.step.sections.find((s) => s.lines.some((line) => line.key === key));
}

function showStage() {
  const box = $("stage");
  const index = Math.min(state.stage, state.stages.length - 1);
  const done = state.stage >= state.stages.length - 1;
  const lines = stageLines(state.stages[index]);
  const heading = document.createElement("p");
  heading.className = "stage-title";
  heading.textContent = `Step ${index + 1} of ${state.stages.length}: ${lines[0]}`;
  const list = document.createElement("ul");
  for (const text of lines.slice(1)) {
    const item = document.createElement("li");
    item.textContent = text;
    list.append(item);
  }
  box.replaceChildren(heading, list);
  box.dataset.stage = index;
  $("next").disabled = done;
  $("back").disabled = index === 0;
}

function moveStage(delta) {
  const last = state.stages.length - 1;
  state.stage = Math.max(0, Math.min(last, Math.min(state.stage, last) + delta));
  drawDiagram();
  showStage();
}

// ---- the diagram ----------------------------------------------------------------------------
function el(name, attrs, parent) {
  const node = document.createElementNS(SVG, name);
  for (const [key, value] of Object.entries(attrs)) node.setAttribute(key, value);
  if (parent) parent.append(node);
  return node;
}

function layout() {
  const sizes = state.sizes;
  const width = GAP * (sizes.length - 1) + 120;
  const height = Math.max(...sizes) * 92 + 20;
  const position = sizes.map((n, l) => Array.from({ length: n }, (_, j) => ({
    x: 60 + l * GAP, y: height / 2 + (j - (n - 1) / 2) * 92 })));
  return { width, height, position };
}

function drawDiagram() {
  const svg = $("diagram");
  const { width, height, position } = layout();
  svg.setAttribute("viewBox", `0 0 ${width} ${height}`);
  svg.style.maxHeight = `${Math.max(height, 260)}px`;
  svg.style.minWidth = `${Math.min(width, 560)}px`;  // on a phone: scroll, not shrink
  svg.replaceChildren();
  const edges = el("g", { class: "edges" }, svg);
  const units = el("g", { class: "units" }, svg);
  const L = state.sizes.length - 1;
  const largest = Math.max(1e-9, ...state.weights.flatMap((layer) => layer.W.flat().map(Math.abs)));
  for (let l = 1; l <= L; l++) {
    const { W } = state.weights[l - 1];
    const label = W.length * W[0].length <= 6;
    W.forEach((row, j) => row.forEach((w, i) => drawEdge(edges, l, j + 1, i + 1, w, largest,
      position[l - 1][i], position[l][j], label)));
  }
  state.sizes.forEach((n, l) => position[l].forEach((p, j) => drawUnit(units, l, j + 1, p)));
}

function drawEdge(parent, l, j, i, w, largest, from, to, label) {
  const name = `w^(${l})_${j}${i}`;
  const group = el("g", { class: "edge", tabindex: 0, role: "button", "data-key": name,
    "aria-label": edgeText(l, j, i, w) }, parent);
  const coords = { x1: from.x + HALF, y1: from.y, x2: to.x - HALF, y2: to.y };
  el("line", { ...coords, class: "hit" }, group);
  el("line", { ...coords, class: w >= 0 ? "line positive" : "line negative",
    "stroke-width": (0.6 + 5 * Math.abs(w) / largest).toFixed(2) }, group);
  if (label) {
    const x = coords.x1 + 0.3 * (coords.x2 - coords.x1);
    const y = coords.y1 + 0.3 * (coords.y2 - coords.y1) - 4;
    el("text", { x, y, class: "edge-label" }, group).textContent = fmt(w);
  }
  group.addEventListener("focus", () => showInfo(edgeText(l, j, i, w)));
  group.addEventListener("mouseenter", () => showInfo(edgeText(l, j, i, w)));
  bindEdit(group, name, w);
}

function edgeText(l, j, i, w) {
  const text = [`w^(${l})_${j}${i} = ${fmt(w)}`];
  const grad = `dE/dw^(${l})_${j}${i}`;
  if (state.lines[grad] && revealed("rule3", l)) text.push(lineText(grad));
  if (state.lines[`w^(${l})_${j}${i} new`] && revealed("update", l)) text.push(lineText(`w^(${l})_${j}${i} new`));
  return text.join("; ");
}

function drawUnit(parent, l, j, p) {
  const L = state.sizes.length - 1;
  const input = l === 0;
  const name = input ? `x_${j}` : l === L ? `output ${j}` : `hidden unit ${j} of layer ${l}`;
  const group = el("g", { class: `unit ${input ? "input" : l === L ? "output" : "hidden"}`,
    tabindex: 0, role: input ? "img" : "button", "data-layer": l, "data-unit": j,
    transform: `translate(${p.x},${p.y})` }, parent);
  const rows = unitRows(l, j);
  const top = input ? -18 : -40;
  el("rect", { x: -HALF, y: top, width: 2 * HALF, height: -2 * top, rx: 10 }, group);
  rows.forEach(([label, key], r) => {
    const line = state.lines[key];
    const value = label === "b" ? state.weights[l - 1].b[j - 1] : line && line.value;
    const text = el("text", { x: 0, y: top + 16 + r * 17, class: `row ${label}` }, group);
    text.textContent = `${label === "x" ? `x${j}` : label} ${fmt(value)}`;
    if (line) {
      text.setAttribute("data-key", key);
      text.setAttribute("data-value", line.value);
    }
  });
  group.setAttribute("aria-label", `${name}: ${unitSummary(l, j)}`);
  const info = () => showInfo(unitInfo(l, j));
  group.addEventListener("focus", info);
  group.addEventListener("mouseenter", info);
  if (!input) bindEdit(group, `w^(${l})_${j}0`, state.weights[l - 1].b[j - 1]);
}

function unitRows(l, j) {
  // [label, key] rows shown on a unit, each only once its stage is reached
  if (l === 0) return [["x", `x_${j}`]];
  const rows = [["b", null]];
  if (revealed("forward", l, j)) rows.push(["a", `a^(${l})_${j}`], [l === state.sizes.length - 1 ? "y" : "z", zKey(l, j)]);
  const backward = l === state.sizes.length - 1 ? "rule1" : "rule2";
  if (revealed(backward, l, j)) rows.push(["δ", `delta^(${l})_${j}`]);
  return rows;
}

function unitSummary(l, j) {
  if (l === 0) return `x = ${fmt(state.lines[`x_${j}`] && state.lines[`x_${j}`].value)}`;
  const parts = [`bias ${fmt(state.weights[l - 1].b[j - 1])}`];
  for (const [label, key] of unitRows(l, j).slice(1)) parts.push(`${label} ${fmt(state.lines[key] && state.lines[key].value)}`);
  return parts.join(", ");
}

function unitInfo(l, j) {
  if (l === 0) return [lineText(`x_${j}`)];
  const lines = [];
  if (revealed("forward", l, j)) {
    const source = l === 1 ? "x" : "z";
    lines.push(lineText(`a^(${l})_${j}`, `Σ_i w^(${l})_${j}i ${source}_i + w^(${l})_${j}0`), lineText(zKey(l, j)));
  }
  const L = state.sizes.length - 1;
  if (l === L && revealed("rule1", l, j)) lines.push(lineText(`delta^(${l})_${j}`));
  if (l < L && revealed("rule2", l, j)) {
    lines.push(lineText(`h'(a^(${l})_${j})`), lineText(`sum^(${l})_${j}`), lineText(`delta^(${l})_${j}`));
  }
  return lines.length ? lines : [`bias w^(${l})_${j}0 = ${fmt(state.weights[l - 1].b[j - 1])}; its numbers appear as you step forward`];
}

function showInfo(lines) {
  const box = $("unit-info");
  const items = (Array.isArray(lines) ? lines : [lines]).map((text) => {
    const p = document.createElement("p");
    p.textContent = text;
    return p;
  });
  box.replaceChildren(...items);
}

// ---- setting a weight by hand ---------------------------------------------------------------
function bindEdit(group, name, value) {
  const open = () => {
    state.editing = { name, focus: group.getAttribute("data-key") || `${group.dataset.layer}-${group.dataset.unit}` };
    $("weight-label").textContent = `${name.endsWith("0") ? "bias" : "weight"} ${name} =`;
    $("weight-value").value = value;
    $("weight-editor").hidden = false;
    $("weight-value").focus();
    $("weight-value").select();
  };
  group.addEventListener("click", open);
  group.addEventListener("keydown", (event) => {
    if (event.key === "Enter" || event.key === " ") { event.preventDefault(); open(); }
  });
}

async function setWeight(event) {
  event.preventDefault();
  const value = Number($("weight-value").value);
  if (!Number.isFinite(value)) throw new Error("a weight must be a number");
  const name = state.editing.name;
  const [, l, j, i] = name.match(/^w\^\((\d)\)_(\d)(\d)$/).map(Number);
  const layer = state.weights[l - 1];
  if (i === 0) layer.b[j - 1] = value; else layer.W[j - 1][i - 1] = value;
  state.config = { ...state.config, weights: { ...state.config.weights, [name]: value } };
  $("weight-editor").hidden = true;
  await refreshStep();
  saveToUrl();
}

async function refreshStep() {
  const result = await post("/api/step", { config: state.config, weights: state.weights, pattern: currentPattern() });
  applyStep(result);
}

// ---- plots ----------------------------------------------------------------------------------
function colourFor(p, pale = 0) {
  // p(class 1) in [0, 1]: orange for class 0, blue for class 1; pale: mixed with white
  const c0 = [245, 166, 35], c1 = [59, 130, 196], w = Math.max(0, Math.min(1, p));
  const mix = c0.map((c, k) => Math.round((c + (c1[k] - c) * w) * (1 - pale) + 255 * pale));
  return `rgb(${mix.join(",")})`;
}

function drawRegion() {
  const canvas = $("region"), ctx = canvas.getContext("2d");
  const { width, height } = canvas;
  ctx.clearRect(0, 0, width, height);
  const view = state.view, d = state.data;
  const axes = view.axes;
  const sx = (v) => (v - axes[0][0]) / (axes[0][axes[0].length - 1] - axes[0][0]) * width;
  if (axes.length === 2) {
    const sy = (v) => height - (v - axes[1][0]) / (axes[1][axes[1].length - 1] - axes[1][0]) * height;
    const n = axes[0].length, cw = width / (n - 1), ch = height / (axes[1].length - 1);
    const scale = regionScale(view.values);
    view.values.forEach((v, k) => {
      ctx.fillStyle = colourFor(scale(v), 0.6);
      ctx.fillRect(sx(axes[0][k % n]) - cw / 2, sy(axes[1][Math.floor(k / n)]) - ch / 2, cw + 1, ch + 1);
    });
    const points = (X, t, hollow) => X.forEach((x, k) => dot(ctx, sx(x[0]), sy(x[1]), colourFor(scale(t[k])), hollow));
    points(d.X, d.t, false);
    points(d.Xv, d.tv, true);
    axisNames(ctx, width, height, ["x1", "x2"]);
    $("region-legend").textContent = d.kind === "classes"
      ? "colour: the network's p(class 1) (blue) against class 0 (orange); filled dots: training, rings: validation"
      : "colour: the network's output; filled dots: training, rings: validation";
    return;
  }
  const ys = view.values.filter((v) => v !== null).concat(d.t, d.tv);
  const lo = Math.min(...ys), hi = Math.max(...ys), pad = 0.1 * (hi - lo || 1);
  const sy = (v) => height - (v - lo + pad) / (hi - lo + 2 * pad) * height;
  ctx.strokeStyle = "#1d4f91"; ctx.lineWidth = 2.5; ctx.beginPath();
  view.values.forEach((v, k) => (k ? ctx.lineTo : ctx.moveTo).call(ctx, sx(axes[0][k]), sy(v)));
  ctx.stroke();
  d.X.forEach((x, k) => dot(ctx, sx(x[0]), sy(d.t[k]), "#f5a623", false));
  d.Xv.forEach((x, k) => dot(ctx, sx(x[0]), sy(d.tv[k]), "#f5a623", true));
  axisNames(ctx, width, height, ["x", "y"]);
  $("region-legend").textContent = "line: the network's output y(x); filled dots: training, rings: validation";
}

function axisNames(ctx, width, height, names) {
  ctx.fillStyle = "#333"; ctx.font = "12px sans-serif";
  ctx.fillText(`${names[0]} →`, width - 34, height - 6);
  ctx.fillText(`${names[1]} ↑`, 5, 14);
}

function regionScale(values) {
  if (state.data.kind === "classes") return (v) => v;
  const all = values.filter((v) => v !== null).concat(state.data.t);
  const lo = Math.min(...all), hi = Math.max(...all);
  return (v) => (v - lo) / (hi - lo || 1);
}

function dot(ctx, x, y, colour, hollow) {
  ctx.beginPath();
  ctx.arc(x, y, 5, 0, 2 * Math.PI);
  ctx.lineWidth = 2;
  ctx.strokeStyle = hollow ? colour : "#fff";
  ctx.fillStyle = colour;
  if (!hollow) ctx.fill();
  ctx.stroke();
}

function drawCurves() {
  const canvas = $("curves"), ctx = canvas.getContext("2d");
  const { width, height } = canvas;
  ctx.clearRect(0, 0, width, height);
  const { error, val_error: val } = state.history;
  const all = error.concat(val).filter((v) => v !== null && v > 0);
  ctx.fillStyle = "#555"; ctx.font = "12px sans-serif";
  if (!all.length) { ctx.fillText("train to see the error fall", 10, height / 2); return; }
  const lo = Math.log10(Math.min(...all)), hi = Math.log10(Math.max(...all));
  const span = Math.max(hi - lo, 0.1);
  const sx = (k) => 36 + k / Math.max(error.length - 1, 1) * (width - 44);
  const sy = (v) => 8 + (hi - Math.log10(Math.max(v, 1e-300))) / span * (height - 28);
  ctx.fillText(`${(10 ** hi).toPrecision(2)}`, 2, 14);
  ctx.fillText(`${(10 ** lo).toPrecision(2)}`, 2, height - 20);
  ctx.fillText(`epoch ${error.length}`, width - 70, height - 4);
  const curve = (values, colour, dash) => {
    ctx.strokeStyle = colour; ctx.setLineDash(dash); ctx.lineWidth = 2; ctx.beginPath();
    let started = false;
    values.forEach((v, k) => {
      if (v === null || v <= 0) return;
      (started ? ctx.lineTo : ctx.moveTo).call(ctx, sx(k), sy(v));
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

// ---- the worked solution and the downloads ----------------------------------------------------
function renderSolution() {
  const box = $("solution");
  const parts = [];
  for (const section of state.step.sections) {
    const details = document.createElement("details");
    details.open = section.lines.length <= 12;
    const summary = document.createElement("summary");
    summary.textContent = section.title;
    details.append(summary);
    if (section.note) {
      const note = document.createElement("p");
      note.textContent = section.note;
      details.append(note);
    }
    const table = document.createElement("table");
    table.innerHTML = "<thead><tr><th scope=col>quantity</th><th scope=col>value</th><th scope=col>rule</th><th scope=col>working</th></tr></thead>";
    const body = document.createElement("tbody");
    for (const line of section.lines) {
      const row = body.insertRow();
      for (const text of [line.key, fmt(line.value), line.formula, line.working]) row.insertCell().textContent = text;
      row.dataset.key = line.key;
    }
    table.append(body);
    details.append(table);
    parts.push(details);
  }
  box.replaceChildren(...parts);
}

function download(blob, name) {
  const link = document.createElement("a");
  link.href = URL.createObjectURL(blob);
  link.download = name;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(link.href), 1000);
}

// ---- wiring ---------------------------------------------------------------------------------
function wire() {
  $("setup").addEventListener("submit", (event) => {
    event.preventDefault();
    guarded(() => build(fromForm()));
  });
  $("dataset").addEventListener("change", () => {
    if ($("dataset").value === "csv" && !(state.config && state.config.points)) {
      showError("choose a CSV file below to use your own data");
      $("dataset").value = state.config.dataset;
      $("csv").focus();
      return;
    }
    guarded(() => build(preset($("dataset").value)));
  });
  $("csv").addEventListener("change", () => guarded(async () => {
    const file = $("csv").files[0];
    if (!file) return;
    const { points } = await post("/api/csv", { text: await file.text() });
    state.config = { ...state.config, points };
    await build({ ...preset("csv"), points });
  }));
  $("train").addEventListener("click", () => {
    if (state.running) { stopTraining(); return; }
    if (state.epoch >= state.config.epochs) { showError(`all ${state.config.epochs} epochs are done: Reset, or raise Epochs and Build`); return; }
    guarded(trainLoop);
  });
  $("one-epoch").addEventListener("click", () => guarded(() => trainChunk(1)));
  $("reset").addEventListener("click", () => guarded(() => build(state.config)));
  $("new-weights").addEventListener("click", () => guarded(() => build({
    ...state.config, seed: (state.config.seed * 7919 + 104729) % 2147483647, weights: {} })));
  $("export-model").addEventListener("click", () => guarded(async () => {
    download(await post("/api/export", { config: state.config, weights: state.weights }, true), "playground.safetensors");
  }));
  $("export-md").addEventListener("click", () => download(new Blob([state.step.markdown], { type: "text/markdown" }), "solution.md"));
  $("weight-editor").addEventListener("submit", (event) => guarded(() => setWeight(event)));
  $("weight-cancel").addEventListener("click", () => { $("weight-editor").hidden = true; });
  $("pattern").addEventListener("change", () => {
    if ($("pattern").value === "own") { $("own").hidden = false; $("own-x").focus(); return; }
    $("own").hidden = true;
    state.pattern = Number($("pattern").value);
    guarded(refreshStep);
  });
  $("own-use").addEventListener("click", () => guarded(async () => {
    const t = Number($("own-t").value);
    state.pattern = { x: numberList($("own-x").value, "x"), t: $("own-t").value.trim() === "" ? NaN : t };
    if (!Number.isFinite(state.pattern.t)) throw new Error("t: a number is needed");
    await refreshStep();
  }));
  $("start-over").addEventListener("click", () => { state.stage = 0; drawDiagram(); showStage(); });
  $("back").addEventListener("click", () => moveStage(-1));
  $("next").addEventListener("click", () => moveStage(1));
  $("show-all").addEventListener("click", () => { state.stage = Infinity; drawDiagram(); showStage(); });
}

async function start() {
  state.options = await (await fetch("/api/options")).json();
  fillChoices();
  wire();
  const fromUrl = loadFromUrl();
  state.config = { ...state.options.defaults };
  const initial = fromUrl ? { ...state.options.defaults, ...fromUrl } : preset("xor");
  try {
    await build(initial);
  } catch (err) {
    showError(`the link's experiment could not be built: ${err.message}`);
    await build(preset("xor"));
  }
}

guarded(start);
