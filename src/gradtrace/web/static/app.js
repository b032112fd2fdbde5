// The page: load a spec, trace it through POST /api/step, and walk the trace quantity by quantity.
// Every number shown comes from the server (or the trace embedded in an offline copy).

import { ApiError, api, embedded } from "./api.js";
import { highlightOf, drawDiagram } from "./diagram.js";
import {
  addLayer, clone, normalised, parseNumber, reinitialised, remapInputs, removeLayer, resizeLayer, setBias, setData,
  setField, setLayerActivation, setOptimizerField, setWeight, sizesOf,
} from "./editor.js";
import { equationHTML, setNotation, symbolText, words } from "./mathml.js";
import { fillSelect, renderInspector, renderLayers } from "./panels.js";
import { createPractice } from "./practice.js";
import { download, exerciseQuery, readFile, specFromHash, specToHash } from "./share.js";
import { createTrainer, outputColour } from "./train.js";

const $ = (id) => document.getElementById(id);

const state = {
  spec: null, // the spec being edited: explicit layers, data as rows
  trace: null, // the gradtrace.trace/1 JSON of that spec
  position: 0, // index into stops()
  view: "matrix",
  sample: 0,
  selected: null,
  offline: false,
  options: { activations: [], losses: [], datasets: [], regression: [], features: [] },
  features: ["x1", "x2"], // the input features the Train panel feeds the network
  units: null, // each unit's heat map from the latest /api/train reply
  trainer: null,
  practice: null, // practice mode (practice.js): the computed values hidden
};

const practising = () => !!(state.practice && state.practice.active);

// Every (step, quantity) of the trace, in step-through order.
function stops() {
  if (!state.trace) return [];
  return state.trace.steps.flatMap((step, s) => step.explanation.map((q, i) => ({ s, i, q })));
}

function current() {
  return stops()[state.position] || null;
}

// An error stays until the user acts (an edit, a load, a training run): nothing clears it on its own.
function showError(message) {
  const box = $("error");
  box.textContent = message;
  box.hidden = !message;
}

// ---- the step-through ------------------------------------------------------------------------

// A quantity's printed name: C, δ2, ∂C/∂W2, W1′ (the notation table), never an internal key.
function quantityName(q) {
  return q.kind === "C" ? "C" : symbolText(q.kind, q.layer);
}

function renderExplanation() {
  const stop = current();
  const total = stops().length;
  if (!stop) return;
  const { q, s } = stop;
  const steps = state.trace.steps.length;
  $("position").textContent = `${steps > 1 ? `step ${s + 1} · ` : ""}${state.position + 1} / ${total}`;
  $("quantity").textContent = quantityName(q);
  $("quantity").dataset.key = q.key;
  $("quantity-words").textContent = `${q.phase}: ${words(q.kind, q.layer)}`;
  const equations = state.view === "matrix" ? [q.matrix] : q.neuron;
  $("explanation").innerHTML = equations.map((equation) => equationHTML(equation)).join("");
  $("prev").disabled = state.position === 0;
  $("next").disabled = state.position >= total - 1;
  const list = $("quantity-list");
  list.replaceChildren(...state.trace.steps[s].explanation.map((item, i) => {
    const li = document.createElement("li");
    const button = document.createElement("button");
    button.className = `link${item.key === q.key ? " current" : ""}`;
    button.textContent = quantityName(item);
    button.dataset.key = item.key;
    button.addEventListener("click", () => jumpTo(s, i));
    li.append(button);
    return li;
  }));
}

function renderDiagram() {
  const stop = current();
  if (!stop) return;
  const step = state.trace.steps[stop.s];
  const net = state.trace.network;
  const sizes = [net.layers[0].inputs, ...net.layers.map((layer) => layer.outputs)];
  const keys = step.explanation.map((q) => q.key);
  const passed = (key) => keys.indexOf(key) !== -1 && keys.indexOf(key) <= stop.i;
  const values = [step.input.map((row) => row[state.sample])];
  // practising: only the givens (inputs, weights) are drawn, not what the learner works out
  if (!practising()) for (const f of step.forward) values.push(f.a.map((row) => row[state.sample]));
  keepingFocus(() => {
    drawDiagram($("diagram"), {
      sizes,
      activations: net.layers.map((layer) => layer.activation),
      weights: step.update.map((u) => u.W_old),
      newWeights: step.update.map((u) => (passed(`W${u.layer}_new`) && !practising() ? u.W_new : null)),
      values,
      ...thumbnailView(sizes),
      highlight: highlightOf(stop.q, net.layers.length),
      selected: state.selected,
      onNode: (l, j) => select({ type: "node", layer: l, j }),
      onEdge: (l, j, k) => select({ type: "edge", layer: l, j, k }),
    });
    renderInspector($("inspector"), practising() ? null : state.selected, step, state.sample, inspectorActions);
  });
}

// The heat maps fit the drawn network only while its layer sizes match theirs.
function thumbnailView(sizes) {
  const units = practising() ? null : state.units; // a unit's output map is not a given
  const fits = units && units.layers.length === sizes.length
    && units.layers.every((layer, l) => layer.length === sizes[l]);
  const names = state.offline ? null : state.features.map(
    (name) => (state.options.features.find((f) => f.name === name) || { symbol: name }).symbol);
  return {
    units: fits ? units : null,
    inputNames: names && names.length === sizes[0] ? names : null,
    outputColour: isRegression() ? null : outputColour,
  };
}

// Re-rendering replaces elements; the one that had the focus gets it back (same data-testid).
function keepingFocus(draw) {
  const active = document.activeElement;
  const testid = active && active !== document.body ? active.getAttribute("data-testid") : null;
  draw();
  const lost = !document.activeElement || document.activeElement === document.body;
  if (testid && lost) {
    const again = document.querySelector(`[data-testid="${testid}"]`);
    if (again) again.focus();
  }
}

function render() {
  renderExplanation();
  renderDiagram();
}

// During Play: the trained weights and heat maps, without a trace (Pause traces the step).
// Otherwise the traced step is drawn again with the new heat maps.
function renderLive(result, playing) {
  state.units = result.units;
  if (!state.trace) return;
  if (!playing) {
    renderDiagram();
    return;
  }
  const spec = result.spec;
  const sizes = [spec.layers[0].weights[0].length, ...spec.layers.map((layer) => layer.weights.length)];
  keepingFocus(() => drawDiagram($("diagram"), {
    sizes,
    activations: spec.layers.map((layer) => layer.activation),
    weights: spec.layers.map((layer) => layer.weights),
    newWeights: null,
    values: null,
    ...thumbnailView(sizes),
    highlight: { nodes: null, edges: null },
    selected: null,
    onNode: (l, j) => select({ type: "node", layer: l, j }),
    onEdge: (l, j, k) => select({ type: "edge", layer: l, j, k }),
  }));
}

function move(by) {
  const total = stops().length;
  state.position = Math.min(Math.max(state.position + by, 0), Math.max(total - 1, 0));
  render();
}

function jumpTo(s, i) {
  state.position = stops().findIndex((stop) => stop.s === s && stop.i === i);
  render();
}

function jumpToKey(key) {
  const stop = current();
  const i = state.trace.steps[stop.s].explanation.findIndex((q) => q.key === key);
  if (i >= 0) jumpTo(stop.s, i);
}

function select(selected) {
  state.selected = selected;
  renderDiagram();
}

// ---- editing ---------------------------------------------------------------------------------

function numberFrom(text, what) {
  const value = parseNumber(text);
  if (value === null) showError(`${what}: ${JSON.stringify(text)} is not a number`);
  return value;
}

const inspectorActions = {
  get offline() { return state.offline; },
  jump: jumpToKey,
  close: () => select(null),
  setWeight: (l, j, k, text) => {
    const v = numberFrom(text, `W${l}[${j + 1},${k + 1}]`);
    if (v !== null) recompute(setWeight(state.spec, l, j, k, v));
  },
  setBias: (l, j, text) => {
    const v = numberFrom(text, `b${l}[${j + 1}]`);
    if (v !== null) recompute(setBias(state.spec, l, j, v));
  },
  setData: (field, sample, j, text) => {
    const v = numberFrom(text, `data.${field}`);
    if (v !== null) recompute(setData(state.spec, field, sample, j, v));
  },
};

const layerActions = {
  get offline() { return state.offline; },
  resize: (l, change) => restructure(resizeLayer(state.spec, l, change)),
  activation: (l, name) => recompute(setLayerActivation(state.spec, l, name)),
  addLayer: () => restructure(addLayer(state.spec)),
  removeLayer: (l) => restructure(removeLayer(state.spec, l)),
};

function restructure(spec) {
  state.selected = null;
  return recompute(spec);
}

function renderEditor() {
  const spec = state.spec;
  if (!spec) return;
  $("learning-rate").value = spec.learning_rate ?? 0.1;
  $("train-learning-rate").value = spec.learning_rate ?? 0.1;
  $("l2").value = (spec.optimizer && spec.optimizer.weight_decay) ?? 0;
  fillSelect($("loss"), state.options.losses, spec.loss ?? "half_sse");
  $("steps").value = spec.steps ?? 1;
  $("train-biases").checked = spec.train_biases ?? true;
  $("data-input").value = spec.data ? JSON.stringify(spec.data.input) : "";
  $("data-target").value = spec.data ? JSON.stringify(spec.data.target) : "";
  renderLayers($("layers"), spec, state.options, layerActions);
}

// Trace ``spec`` on the server; on success it becomes the page's state (and the URL's).
// ``keepError``: a message shown before (a failed run, a damaged link) stays up.
async function recompute(spec, { resetPosition = false, keepError = false, refresh = true } = {}) {
  const stop = current();
  const key = stop ? stop.q.key : null;
  try {
    const trace = await api("/api/step", spec);
    state.spec = spec;
    state.trace = trace;
    const batch = trace.steps[0].input[0].length;
    state.sample = Math.min(state.sample, batch - 1);
    fillSelect($("sample"), Array.from({ length: batch }, (_, i) => `sample ${i + 1}`), `sample ${state.sample + 1}`);
    const all = stops();
    const same = key === null ? -1 : all.findIndex((s) => s.s === (stop ? stop.s : 0) && s.q.key === key);
    state.position = resetPosition || same < 0 ? 0 : same;
    if (!keepError) showError("");
    history.replaceState(null, "", specToHash(spec));
    // the menu names the example the network came from (edited or not), if it came from one
    if ([...$("example").options].some((option) => option.value === spec.name)) $("example").value = spec.name;
  } catch (error) {
    if (!(error instanceof ApiError)) throw error;
    showError(error.message);
    renderEditor();
    if (state.trace) render();
    return false;
  }
  renderEditor();
  if (state.trace) render();
  await state.practice.refresh();
  // the heat maps and the boundary follow an edit (not while playing: each frame draws them)
  if (refresh && state.trainer && !state.trainer.playing) {
    const inputs = sizesOf(state.spec)[0];
    if (inputs === state.features.length) {
      await state.trainer.preview().catch((error) => showError(error.message));
    } else { // e.g. a 3-input textbook example: its trace is fine, the 2-D datasets can't feed it
      state.trainer.unfit(`Training here needs the input layer as wide as the input features ` +
        `(${state.features.join(", ")}): this network takes ${inputs}. Change the features or the ` +
        `first layer to train it.`);
    }
  }
  return true;
}

// Load a spec (validated by the server); false, with the server's message shown, if it is not one.
async function loadSpec(raw, path = "/api/spec", options = {}) {
  try {
    const { spec } = await api(path, raw);
    state.selected = null;
    return await recompute(normalised(spec), { resetPosition: true, ...options });
  } catch (error) {
    if (!(error instanceof ApiError)) throw error;
    showError(error.message);
    return false;
  }
}

function wireEditor() {
  const field = (id, name, parse) => $(id).addEventListener("change", () => {
    const value = parse($(id));
    if (value !== null) recompute(setField(state.spec, name, value));
  });
  field("learning-rate", "learning_rate", (input) => numberFrom(input.value, "learning rate"));
  field("train-learning-rate", "learning_rate", (input) => numberFrom(input.value, "learning rate"));
  $("l2").addEventListener("change", () => {
    const value = numberFrom($("l2").value, "L2 λ");
    if (value !== null) recompute(setOptimizerField(state.spec, "weight_decay", value));
  });
  field("steps", "steps", (input) => numberFrom(input.value, "steps"));
  field("loss", "loss", (input) => input.value);
  field("train-biases", "train_biases", (input) => input.checked);
  for (const [id, name] of [["data-input", "input"], ["data-target", "target"]]) {
    $(id).addEventListener("change", () => {
      let value;
      try {
        value = JSON.parse($(id).value.replace(/\u2212/g, "-"));
      } catch {
        showError(`data.${name}: not valid JSON; write rows like [[0.35, 0.7]]`);
        return;
      }
      recompute({ ...clone(state.spec), data: { ...state.spec.data, [name]: value } });
    });
  }
}

function wireFiles() {
  $("load-example").addEventListener("click", async () => {
    try {
      await loadSpec(await api(`/api/examples/${encodeURIComponent($("example").value)}`));
    } catch (error) {
      showError(error.message);
    }
  });
  $("upload").addEventListener("change", async () => {
    const file = $("upload").files[0];
    if (!file) return;
    const format = file.name.split(".").pop().toLowerCase();
    await loadSpec({ text: await readFile(file), format }, "/api/spec/text");
    $("upload").value = "";
  });
  $("save-json").addEventListener("click", () => {
    if (state.offline) download("gradtrace-trace.json", JSON.stringify(state.trace, null, 2), "application/json");
    else download("gradtrace-spec.json", `${JSON.stringify(state.spec, null, 2)}\n`, "application/json");
  });
  $("save-toml").addEventListener("click", async () => {
    try {
      const { toml } = await api("/api/spec", state.spec);
      download("gradtrace-spec.toml", toml, "application/toml");
    } catch (error) {
      showError(error.message);
    }
  });
  $("share").addEventListener("click", async () => {
    const link = location.href;
    try {
      await navigator.clipboard.writeText(link);
      $("share").textContent = "Link copied";
    } catch {
      showError(`copy this link: ${link}`);
    }
  });
}

// Matrix or neuron view: the step-through's equations and the practice's answers follow it.
function setView(view) {
  state.view = view;
  $(`view-${view}`).checked = true;
  renderExplanation();
  return state.practice.refresh();
}

function wireStepper() {
  $("prev").addEventListener("click", () => move(-1));
  $("next").addEventListener("click", () => move(1));
  for (const radio of document.querySelectorAll("input[name=view]")) {
    radio.addEventListener("change", () => setView(radio.value));
  }
  $("sample").addEventListener("change", () => {
    state.sample = $("sample").selectedIndex;
    renderDiagram();
  });
  document.addEventListener("keydown", (event) => {
    const typing = ["INPUT", "SELECT", "TEXTAREA"].includes(document.activeElement.tagName);
    if (typing || event.altKey || event.ctrlKey || event.metaKey) return;
    if (event.key === "ArrowRight") move(1);
    else if (event.key === "ArrowLeft") move(-1);
    else return;
    event.preventDefault();
  });
}

function isRegression() {
  return state.options.regression.includes($("dataset").value);
}

// The problem the dataset poses decides the output layer and the loss, as in Playground: a linear
// output with MSE for a regression dataset, a sigmoid with binary cross-entropy for two classes.
function fitProblem(spec) {
  const copy = normalised(spec);
  const out = copy.layers[copy.layers.length - 1];
  const regression = isRegression();
  if (regression && !["mse", "half_sse", "mae"].includes(copy.loss)) {
    copy.loss = "mse";
    out.activation = "linear";
  } else if (!regression && out.activation === "linear" && out.weights.length === 1) {
    copy.loss = "binary_cross_entropy";
    out.activation = "sigmoid";
  }
  return copy;
}

// The traced batch becomes the dataset's first training points (their features as a0).
async function takeSample(spec) {
  const { data, ...bare } = normalised(spec); // the old batch may not fit the new problem
  const result = await state.trainer.preview(bare);
  await recompute({ ...normalised(result.spec), data: result.sample }, { refresh: false, resetPosition: true });
}

async function changeData(spec) {
  state.trainer.clear();
  try {
    await takeSample(spec);
  } catch (error) {
    if (!(error instanceof ApiError)) throw error;
    showError(error.message);
  }
}

function wireFeatures() {
  const box = $("features");
  for (const feature of state.options.features) {
    const label = document.createElement("label");
    const input = document.createElement("input");
    input.type = "checkbox";
    input.value = feature.name;
    input.checked = state.features.includes(feature.name);
    input.dataset.testid = `feature-${feature.name}`;
    input.addEventListener("change", () => {
      const chosen = [...box.querySelectorAll("input:checked")].map((i) => i.value);
      if (!chosen.length) {
        input.checked = true;
        showError("input features: keep at least one");
        return;
      }
      const before = state.features;
      state.features = chosen;
      changeData(remapInputs(state.spec, before, chosen));
    });
    label.append(input, ` ${feature.symbol}`);
    box.append(label);
  }
}

function wireTrainer() {
  state.trainer = createTrainer({
    dataset: $("dataset"), points: $("points"), noise: $("noise"), frameSteps: $("frame-steps"),
    ratio: $("ratio"), batch: $("batch"), l1: $("l1"), showTest: $("show-test"), discrete: $("discrete"),
    play: $("play"), pause: $("pause"), step: $("train-step"), reset: $("train-reset"),
    regenerate: $("regenerate"),
    lossCurve: $("loss-curve"), boundary: $("boundary"), status: $("train-status"),
  }, {
    getSpec: () => state.spec,
    setSpec: (spec) => { state.spec = normalised(spec); },
    features: () => state.features,
    regression: (name) => state.options.regression.includes(name),
    live: renderLive,
    // after a run the step is traced again; a training error stays on screen
    done: ({ failed }) => recompute(state.spec, { keepError: failed, refresh: false }),
    error: showError,
  });
  for (const [id, out, unit] of [["noise", "noise-value", ""], ["ratio", "ratio-value", "%"]]) {
    $(id).addEventListener("input", () => { $(out).textContent = `${$(id).value}${unit}`; });
    $(id).addEventListener("change", () => {
      showError("");
      state.trainer.clear();
      state.trainer.preview().catch((error) => showError(error.message));
    });
  }
  $("points").addEventListener("change", () => changeData(state.spec));
  $("dataset").addEventListener("change", () => { showError(""); changeData(fitProblem(state.spec)); });
  $("reset-weights").addEventListener("click", async () => {
    state.trainer.clear();
    await loadSpec(reinitialised(state.spec, Math.floor(Math.random() * 2 ** 31)));
  });
  $("play").addEventListener("click", () => showError(""));
  $("train-step").addEventListener("click", () => showError(""));
}

async function startOffline(data) {
  state.offline = true;
  state.trace = data.trace;
  setNotation(data.notation);
  document.body.classList.add("offline");
  $("offline-note").hidden = false;
  // only what works without a server: the step-through and the diagram
  for (const id of ["editor", "train", "files", "new-exercise"]) $(id).hidden = true;
  const batch = data.trace.steps[0].input[0].length;
  fillSelect($("sample"), Array.from({ length: batch }, (_, i) => `sample ${i + 1}`), "sample 1");
  render();
}

// What the address names: "#spec=..." (a shared state) or "#example=NAME"; else null.
async function linkedSpec() {
  const example = /^#example=([A-Za-z0-9_-]+)$/.exec(location.hash);
  if (example) return api(`/api/examples/${example[1]}`);
  const exercise = exerciseQuery(location.hash);
  if (exercise) return exerciseSpec(exercise);
  return specFromHash(location.hash);
}

// A generated exercise (GET /api/exercise); the link names it as #exercise=SEED[&sizes=...].
async function exerciseSpec(query) {
  const { spec, seed, frozen_seed: frozen } = await api(`/api/exercise?${query}`);
  state.practice.remember(`#exercise=${query.replace(/^seed=/, "")}`,
    `Generated exercise, seed ${seed} (frozen seed ${frozen}); the link in the address bar opens it again.`);
  return spec;
}

function wirePractice(offline) {
  state.practice = createPractice({
    panel: $("practice"), toggle: $("practice-switch"), newExercise: $("new-exercise"),
    offlineNote: $("practice-offline"),
  }, {
    offline,
    spec: () => state.spec,
    trace: () => state.trace,
    view: () => state.view,
    setView,
    focusKey: (key) => jumpToKey(key),
    // practising, the panels that show or change computed values give way to the practice panel
    showing: (on) => {
      for (const id of ["step-panel", "editor", "train"]) $(id).hidden = on;
      document.body.classList.toggle("practising", on);
      if (on) state.selected = null;
      if (state.trace) renderDiagram();
    },
    loadExercise: async (query) => {
      try {
        await loadSpec(await exerciseSpec(query));
      } catch (error) {
        if (!(error instanceof ApiError)) throw error;
        showError(error.message);
      }
    },
  });
}

async function startServed() {
  const [notation, options, session, examples, playground] = await Promise.all([
    api("/api/notation"), api("/api/options"), api("/api/session"), api("/api/examples"),
    api("/api/default"),
  ]);
  setNotation(notation);
  state.options = options;
  fillSelect($("example"), examples.map((e) => e.name), "seed");
  fillSelect($("dataset"), options.datasets, "xor");
  wireFeatures();
  const fallback = session.spec || playground;
  let linked = null;
  let problem = null;
  try {
    linked = await linkedSpec();
  } catch (error) {
    problem = error.message;
  }
  if (linked && !(await loadSpec(linked))) {
    problem = `the link's spec is not valid: ${$("error").textContent}`;
  }
  if (problem) {
    // say what is wrong with the link, and show the default network instead of an empty page
    await loadSpec(fallback, "/api/spec", { keepError: true });
    showError(`${problem}; showing the default network instead`);
  } else if (!linked) {
    await loadSpec(fallback);
  }
}

async function main() {
  wireStepper();
  const data = embedded();
  wirePractice(!!data);
  if (data) {
    await startOffline(data);
  } else {
    wireEditor();
    wireFiles();
    wireTrainer();
    await startServed();
  }
  document.body.dataset.ready = "true";
}

main().catch((error) => showError(`the page failed to start: ${error.message}`));
