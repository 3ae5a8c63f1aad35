// The deltagrad playground page. It computes nothing of the network: every a, z, δ, gradient
// and update shown comes from the server's tracer (explain.backprop) as JSON; this script
// only lays out, formats and draws those numbers.
"use strict";

const $ = (id) => document.getElementById(id);
const SVG = "http://www.w3.org/2000/svg";
const CHUNK = 10;          // epochs per training request while playing
const DIGITS = 4;          // decimals on the diagram
const GAP = 200;           // pixels between layers in the diagram
const HALF = 58;           // half a unit's width
const MAP = 36;            // the side of the picture inside a unit
const TRAIL = 2000;        // weight snapshots kept for the error surface's path

const state = {
  options: null, config: null, sizes: [], data: null, weights: null, step: null,
  epoch: 0, history: { error: [], val_error: [] }, stopper: null, running: false, looping: false,
  stage: Infinity, pattern: 0, view: null, editing: null, units: null, saturated: [],
  trail: [], surface: null, target: 0,
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
const CHOICE_LABELS = { regularizer: { none: "none", l1: "L1: λ Σ|w|", weight_decay: "L2: (λ/2) Σ w² (weight decay)",
  prior: "consistent prior (α per layer)" } };

function fillChoices() {
  const o = state.options;
  const labels = { "example-2.1.3": "§2.1.3 worked example", "question-1": "§3.4 question 1",
    "question-2": "§3.4 question 2", csv: "own data (CSV)", sin: "sin(2πx) regression",
    xor: "XOR", and: "AND", or: "OR", nand: "NAND", nor: "NOR", gaussian: "Gaussian clusters" };
  fill($("dataset"), o.datasets, labels);
  for (const name of CHOICE_FIELDS.slice(1)) fill($(name), o.choices[name], CHOICE_LABELS[name] || {});
  const boxes = Object.entries(o.features).map(([name, label]) => {
    const span = document.createElement("span");
    span.className = "check feature";
    const box = document.createElement("input");
    Object.assign(box, { type: "checkbox", id: `feature-${name}`, value: name });
    const text = document.createElement("label");
    text.htmlFor = box.id;
    text.textContent = label;
    span.append(box, text);
    return span;
  });
  $("features").replaceChildren(...boxes);
}

function featureBoxes() {
  return [...document.querySelectorAll("#features input")];
}

function fill(select, values, labels) {
  select.replaceChildren(...values.map((v) => new Option(labels[v] || v.replaceAll("_", " "), v)));
}

function toForm(config) {
  for (const name of NUMBER_FIELDS.concat(CHOICE_FIELDS)) $(name).value = config[name];
  $("hidden").value = config.hidden.join(", ");
  $("alphas").value = config.alphas ? config.alphas.join(", ") : "";
  $("early_stopping").checked = config.early_stopping;
  const chosen = state.features || ["x1", "x2"];
  const oneInput = state.data && state.data.X[0].length === 1;
  for (const box of featureBoxes()) {
    box.checked = chosen.includes(box.value);
    box.disabled = oneInput && !["x1", "x1^2", "sin_x1"].includes(box.value);
  }
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
  const features = featureBoxes().filter((box) => box.checked && !box.disabled).map((box) => box.value);
  if (!features.length) throw new Error("Features: tick at least one input feature");
  const raw = state.data && state.data.X[0].length === 1 ? ["x1"] : ["x1", "x2"];
  config.features = JSON.stringify(features) === JSON.stringify(raw) ? null : features;
  if (JSON.stringify(config.features) !== JSON.stringify(state.config.features)) config.weights = {};
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
async function build(config, restore = null) {
  // restore: { weights, epoch } of a trained network (a link or a model file); null: initial
  const body = { config, pattern: 0, ...(restore ? { weights: restore.weights, epoch: restore.epoch } : {}) };
  const result = await post("/api/experiment", body);
  stopTraining();
  Object.assign(state, {
    config: result.config, sizes: result.sizes, data: result.data, weights: result.weights,
    features: result.features, epoch: result.epoch, history: { error: [], val_error: [] },
    stopper: null, pattern: 0, stage: Infinity, trail: [result.weights],
  });
  $("advice").textContent = "";
  $("unit-large-box").hidden = true;  // a unit of the network before
  choosePair();
  toForm(state.config);
  fillPatterns();
  applyEvaluation(result);
  applyStep(result.step);
  saveToUrl();
  if (state.surface) await showSurface();  // the same view, for the new network
}

function saveToUrl() {
  // the link holds the configuration (what differs from the defaults), the current weights
  // and the epoch: opening it rebuilds the network as it is now, trained or not
  const config = { ...state.config };
  for (const key of Object.keys(config)) {
    if (JSON.stringify(config[key]) === JSON.stringify(state.options.defaults[key])) delete config[key];
  }
  const link = { config, weights: state.weights, epoch: state.epoch };
  history.replaceState(null, "", "#" + encodeURIComponent(JSON.stringify(link)));
}

function loadFromUrl() {
  // { config, weights, epoch }; a link of the first edition held the configuration alone
  if (location.hash.length < 2) return null;
  try {
    const link = JSON.parse(decodeURIComponent(location.hash.slice(1)));
    return link && link.config ? link : { config: link, weights: null, epoch: 0 };
  } catch (e) { return null; }
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
  const previous = state.weights;
  const result = await post("/api/train", {
    config: state.config, weights: state.weights, epoch: state.epoch, epochs,
    stopper: state.stopper, pattern: currentPattern(),
  });
  state.weights = result.weights;
  state.epoch = result.epoch;
  state.stopper = result.stopper;
  state.history.error.push(...result.history.error);
  state.history.val_error.push(...result.history.val_error);
  if (state.trail[state.trail.length - 1] !== previous) state.trail.push(previous);
  state.trail.push(result.weights);
  if (state.trail.length > TRAIL) state.trail.splice(0, state.trail.length - TRAIL);
  applyEvaluation(result);
  applyStep(result.step);
  $("advice").textContent = [...result.notes, saturationText()].filter(Boolean).join(" ");
  saveToUrl();
  if (state.surface) await showSurface();
  return result.stopped;
}

async function trainLoop() {
  // Train goes on from the current weights: Epochs more, or until paused
  state.running = true;
  state.target = $("forever").checked ? Infinity : state.epoch + state.config.epochs;
  if (state.stopper) state.stopper = { ...state.stopper, wait: 0 };  // patience afresh
  $("train").textContent = "⏸ Pause";
  state.looping = true;  // until the last request is answered, even after Pause
  try {
    while (state.running && state.epoch < state.target) {
      const stopped = await trainChunk(Math.min(CHUNK, state.target - state.epoch));
      if (stopped) break;
    }
  } finally {
    state.looping = false;
    stopTraining();
  }
}

function saturationText() {
  if (!state.saturated.length) return "";
  const names = state.saturated.map(([l, j, share]) => `unit ${j} of layer ${l} (${Math.round(100 * share)}%)`);
  return `Saturated: ${names.join(", ")} — h′(a) ≈ 0 on most patterns, so δ ≈ 0 and their weights barely move (eq. 3.10): lower η, or start again with smaller weights.`;
}

function stopTraining() {
  state.running = false;
  $("train").textContent = "▶ Train";
}

// ---- the numbers from the server ------------------------------------------------------------
function applyEvaluation(result) {
  state.view = result.view;
  state.units = result.units;
  state.saturated = result.saturated;
  const parts = [`epoch ${state.epoch}`,
    `training error per pattern ${fmt(result.error)}`];
  if (result.accuracy !== undefined) {
    parts.push(`correct ${result.correct}/${state.data.X.length} (${(100 * result.accuracy).toFixed(1)}%)`);
  }
  if (result.val_accuracy !== undefined) parts.push(`validation ${(100 * result.val_accuracy).toFixed(1)}%`);
  if (result.stopped === "early") parts.push(`early stopping: best epoch ${state.stopper.best_epoch} restored`);
  if (result.stopped === "diverged") parts.push("training diverged: lower η");
  if (result.stopped === "limit") parts.push("the playground's epoch limit is reached");
  const best = state.stopper && state.stopper.best_weights;
  $("restore-best").disabled = !best;
  $("restore-best").textContent = best ? `Restore best (epoch ${state.stopper.best_epoch})` : "Restore best";
  $("metrics").textContent = parts.join(" · ");
  $("metrics").dataset.correct = result.correct === undefined ? "" : result.correct;
  $("metrics").dataset.epoch = state.epoch;
  $("status").textContent = `${state.sizes.join("-")} network on ${$("dataset").selectedOptions[0].textContent}, epoch ${state.epoch}`;
  redrawPlots();
}

function redrawPlots() {
  $("region-legend").textContent = drawRegion(state.view, state.data,
    { showTest: $("show-test").checked, discrete: $("discrete").checked });
  drawCurves(state.history);
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

function fmtShort(value) {
  // a weight on the diagram: 3 significant digits, fixed width
  if (value === null || value === undefined) return "–";
  const v = Number(value);
  return Math.abs(v) >= 100 ? v.toFixed(0) : Math.abs(v) >= 10 ? v.toFixed(1) : v.toFixed(2);
}

function currentPattern() {
  return state.pattern;
}

// ---- setting a weight by hand ---------------------------------------------------------------
function bindEdit(group, name, value) {
  const open = () => {
    state.editing = { name, focus: group.getAttribute("data-key") || `${group.dataset.layer}-${group.dataset.unit}` };
    $("weight-label").textContent = `${name.endsWith("0") ? "bias" : "weight"} ${name} =`;
    $("weight-value").value = Number(value.toPrecision(6));  // fixed precision, not 17 digits
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
  state.trail.push(state.weights.map((layer) => ({ W: layer.W.map((row) => row.slice()), b: layer.b.slice() })));
  await refreshAll();
  saveToUrl();
}

async function refreshStep() {
  const result = await post("/api/step", { config: state.config, weights: state.weights,
    pattern: currentPattern(), epoch: state.epoch });
  applyStep(result);
}

async function refreshAll() {
  // after the weights change by hand: every view, not only the step
  const result = await post("/api/refresh", { config: state.config, weights: state.weights,
    pattern: currentPattern(), epoch: state.epoch });
  applyEvaluation(result);
  applyStep(result.step);
  $("advice").textContent = saturationText();
  if (state.surface) await showSurface();
}

function showUnitLarge(l, j) {
  // the large view of a unit's output over the plane, under the diagram
  if (!state.units) return;
  const values = state.units.maps[l][j - 1];
  const L = state.sizes.length - 1;
  const activation = l === 0 ? "" : l === L ? state.config.output : state.config.activation;
  const title = l === 0 ? `input ${state.options.features[state.features[j - 1]]}`
    : l === L ? `output y_${j}` : `z of unit ${j}, layer ${l}`;
  const canvas = $("unit-large");
  drawUnitLarge(canvas, values, state.units.axes, activation, title);
  canvas.dataset.unit = `${l}-${j}`;
  $("unit-large-caption").textContent = `${title} over the input plane (the ${state.units.axes[0].length}-point grid the server evaluated)`;
  $("unit-large-box").hidden = false;
}

// ---- the error surface of two weights; the downloads ---------------------------------------
function weightNames() {
  const names = [];
  state.sizes.slice(1).forEach((n, k) => {
    for (let j = 1; j <= n; j++) for (let i = 0; i <= state.sizes[k]; i++) names.push(`w^(${k + 1})_${j}${i}`);
  });
  return names;
}

function choosePair() {
  const names = weightNames();
  for (const [id, pick] of [["pair-a", 1], ["pair-b", 0]]) {
    const keep = $(id).value;
    $(id).replaceChildren(...names.map((n) => new Option(n, n)));
    $(id).value = names.includes(keep) ? keep : names[Math.min(pick, names.length - 1)];
  }
  if ($("pair-a").value === $("pair-b").value) $("pair-b").value = names.find((n) => n !== $("pair-a").value);
}

function weightValue(weights, name) {
  const [, l, j, i] = name.match(/^w\^\((\d)\)_(\d)(\d)$/).map(Number);
  const layer = weights[l - 1];
  return i === 0 ? layer.b[j - 1] : layer.W[j - 1][i - 1];
}

async function showSurface() {
  const pair = [$("pair-a").value, $("pair-b").value];
  if (pair[0] === pair[1]) throw new Error("Error surface: pick two different weights");
  const path = state.trail.map((w) => pair.map((name) => weightValue(w, name)));
  const surface = await post("/api/surface", { config: state.config, weights: state.weights, pair, path });
  state.surface = surface;
  $("surface-box").hidden = false;
  drawSurface($("surface"), surface, path);
  const [[h11, h12], [, h22]] = surface.hessian;
  $("surface-numbers").textContent = `at ŵ = (${surface.centre.map(fmt).join(", ")}): E = ${fmt(surface.E_hat)}, ` +
    `∂E/∂w = (${surface.gradient.map(fmt).join(", ")}), H = [[${fmt(h11)}, ${fmt(h12)}], [${fmt(h12)}, ${fmt(h22)}]] (exact, by double backward)`;
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
    if (state.looping) return;  // a paused run's last request is still out
    guarded(async () => {
      const number = Number($("epochs").value);
      if (!Number.isInteger(number) || number < 1) throw new Error(`Epochs per Train: a whole number ≥ 1 is needed, got "${$("epochs").value}"`);
      state.config = { ...state.config, epochs: number };
      await trainLoop();
    });
  });
  $("restore-best").addEventListener("click", () => guarded(async () => {
    state.weights = state.stopper.best_weights;
    state.trail.push(state.weights);
    await refreshAll();
    saveToUrl();
  }));
  $("show-test").addEventListener("change", redrawPlots);
  $("discrete").addEventListener("change", redrawPlots);
  $("show-training-step").addEventListener("change", () => { $("training-step").open = $("show-training-step").checked; });
  $("surface-show").addEventListener("click", () => guarded(showSurface));
  $("surface-hide").addEventListener("click", () => { state.surface = null; $("surface-box").hidden = true; });
  $("load-model").addEventListener("change", () => guarded(async () => {
    const file = $("load-model").files[0];
    if (!file) return;
    const bytes = new Uint8Array(await file.arrayBuffer());
    let text = "";
    for (let k = 0; k < bytes.length; k += 8192) text += String.fromCharCode(...bytes.subarray(k, k + 8192));
    const loaded = await post("/api/load", { file: btoa(text) });
    await build(loaded.config, loaded);
    $("load-model").value = "";
  }));
  $("one-epoch").addEventListener("click", () => guarded(() => trainChunk(1)));
  $("reset").addEventListener("click", () => guarded(() => build(state.config)));
  $("new-weights").addEventListener("click", () => guarded(() => build({
    ...state.config, seed: (state.config.seed * 7919 + 104729) % 2147483647, weights: {} })));
  $("export-model").addEventListener("click", () => guarded(async () => {
    download(await post("/api/export", { config: state.config, weights: state.weights, epoch: state.epoch }, true), "playground.safetensors");
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
  const initial = fromUrl ? { ...state.options.defaults, ...fromUrl.config } : preset("xor");
  try {
    await build(initial, fromUrl && fromUrl.weights ? fromUrl : null);
  } catch (err) {
    showError(`the link's experiment could not be built: ${err.message}`);
    await build(preset("xor"));
  }
}

guarded(start);
