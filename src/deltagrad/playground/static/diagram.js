// The playground's diagram and step mode: the units and weights as SVG (each unit with its
// picture over the plane), the stages of one pattern's forward and backward pass, and the
// worked solution with the step training takes next. Every number is the server's (the
// tracer's JSON); this file lays them out. Shares the page's globals with playground.js.
"use strict";

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
  const width = GAP * (sizes.length - 1) + 2 * HALF + 8;
  const height = Math.max(...sizes) * 92 + 20;
  const position = sizes.map((n, l) => Array.from({ length: n }, (_, j) => ({
    x: HALF + 4 + l * GAP, y: height / 2 + (j - (n - 1) / 2) * 92 })));
  return { width, height, position };
}

function drawDiagram() {
  const svg = $("diagram");
  const { width, height, position } = layout();
  svg.setAttribute("viewBox", `0 0 ${width} ${height}`);
  svg.style.maxHeight = `${Math.max(height, 260)}px`;  // the width follows the column
  svg.replaceChildren();
  const edges = el("g", { class: "edges" }, svg);
  const labels = el("g", { class: "edge-labels" }, svg);  // above every line, never crossed
  const units = el("g", { class: "units" }, svg);
  const L = state.sizes.length - 1;
  const largest = Math.max(1e-9, ...state.weights.flatMap((layer) => layer.W.flat().map(Math.abs)));
  for (let l = 1; l <= L; l++) {
    const { W } = state.weights[l - 1];
    const label = W.length * W[0].length <= 9 ? labels : null;  // more would overlap: hover shows them
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
    // a third of the way from the source, where the lines from one unit have fanned apart
    const x = coords.x1 + 0.34 * (coords.x2 - coords.x1);
    const y = coords.y1 + 0.34 * (coords.y2 - coords.y1);
    const tag = el("g", { class: "edge-label", transform: `translate(${x.toFixed(1)},${y.toFixed(1)})`,
      "data-key": name }, label);
    el("rect", { x: -19, y: -8, width: 38, height: 15, rx: 3 }, tag);
    el("text", { x: 0, y: 4 }, tag).textContent = fmtShort(w);
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
  const top = input ? -22 : -40;
  const saturated = state.saturated.some(([sl, sj]) => sl === l && sj === j);
  if (saturated) group.classList.add("saturated");
  el("rect", { x: -HALF, y: top, width: 2 * HALF, height: -2 * top, rx: 10 }, group);
  const side = input ? 36 : MAP;
  const maps = state.units && state.units.maps[l];
  if (maps) {
    const activation = l === 0 ? "" : l === state.sizes.length - 1 ? state.config.output : state.config.activation;
    el("image", { href: unitImage(maps[j - 1], state.units.axes, activation), x: -HALF + 4,
      y: -side / 2, width: side, height: side, preserveAspectRatio: "none", class: "map" }, group);
  }
  const textX = maps ? (side + 4) / 2 : 0;
  if (input) {
    const feature = state.features[j - 1];
    el("text", { x: textX, y: -6, class: "row feature" }, group).textContent = state.options.features[feature];
  }
  rows.forEach(([label, key], r) => {
    const line = state.lines[key];
    const value = label === "b" ? state.weights[l - 1].b[j - 1] : line && line.value;
    const y = input ? 12 : top + 16 + r * 17;
    const text = el("text", { x: textX, y, class: `row ${label}` }, group);
    text.textContent = `${label === "x" ? "" : `${label} `}${fmt(value)}`;
    if (line) {
      text.setAttribute("data-key", key);
      text.setAttribute("data-value", line.value);
    }
  });
  group.setAttribute("aria-label", `${name}: ${unitSummary(l, j)}`);
  const info = () => { showInfo(unitInfo(l, j)); showUnitLarge(l, j); };
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
  if (l === 0) return [`input feature ${state.options.features[state.features[j - 1]]}`, lineText(`x_${j}`)];
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

// ---- the worked solution and the step training takes ------------------------------------------
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
  parts.unshift(trainingStepDetails(state.step.training_step));
  box.replaceChildren(...parts);
}

function trainingStepDetails(step) {
  // the update training makes next: its minibatch, the regulariser's share, the optimiser's step
  const details = document.createElement("details");
  details.id = "training-step";
  details.open = $("show-training-step").checked;
  const summary = document.createElement("summary");
  const kind = step.B === step.N ? "the whole training set (batch)" : step.B === 1 ? "one pattern (on-line)" : `a minibatch of ${step.B}`;
  summary.textContent = `The step training takes next (epoch ${step.epoch}, first update): ${kind}`;
  const note = document.createElement("p");
  const reg = step.regularizer === "none" ? "no regulariser" : `regulariser ${step.regularizer}: its share (B/N)Ω = ${fmt(step.omega)}`;
  note.textContent = `Patterns ${step.rows.slice(0, 40).join(", ")}${step.rows.length > 40 ? ", …" : ""} of ${step.N} (the epoch's shuffle by seed + epoch, as fit draws it); ` +
    `E on them ${fmt(step.E_batch)}; ${reg}. SGD: Δw = −η (∂E_batch/∂w + (B/N) ∂Ω/∂w), η = ${step.lr} (eq. 2.20–2.22).`;
  const table = document.createElement("table");
  table.innerHTML = "<thead><tr><th scope=col>weight</th><th scope=col>w</th><th scope=col>∂E_batch/∂w</th><th scope=col>(B/N) ∂Ω/∂w</th><th scope=col>Δw</th><th scope=col>new w</th></tr></thead>";
  const body = document.createElement("tbody");
  for (const w of step.weights) {
    const row = body.insertRow();
    row.dataset.key = w.name;
    for (const text of [w.name, fmt(w.w), fmt(w.dE), fmt(w.dOmega), fmt(w.update), fmt(w.new)]) row.insertCell().textContent = text;
  }
  table.append(body);
  details.append(summary, note, table);
  return details;
}
