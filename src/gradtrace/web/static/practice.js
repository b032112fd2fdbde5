// Practice: the step's computed values hidden, the learner types each quantity in stage order and
// POST /api/grade (the CLI's grader) judges every answer so far. Hints are the trace's own
// equations; the page never computes a value or judges one itself.

import { ApiError, api } from "./api.js";
import { equationHTML, math, symbolML, symbolText, valueML, words } from "./mathml.js";
import { el } from "./panels.js";

export const STAGES = ["Forward pass", "Cost", "Output δ", "∂C/∂a and hidden δ", "Gradients", "Update"];
const STORE = "gradtrace.practice/"; // + the spec's hash: {active, answers, hints}
const HINTS = ["Hint: the formula", "Hint: the numbers plugged in", "Show the answer (not counted as solved)"];

// Which stage a quantity of the trace belongs to (layers: the network's layer count L).
export function stageOf(q, layers) {
  if (q.phase === "update") return 5;
  if (q.kind === "z" || q.kind === "a") return 0;
  if (q.kind === "C") return 1;
  if (q.kind === "grad_a" || q.kind === "delta") return q.layer === layers ? 2 : 3;
  return 4;
}

const shapeOf = (value) => (typeof value === "number" ? [1, 1] : [value.length, value[0].length]);
const flat = (value) => (typeof value === "number" ? [value] : value.flat());

// The items to answer, in stage order: matrix view one per quantity (its whole vector or matrix),
// neuron view one per entry. label: the answers file's key, "z1" or "grad_W1[1,2]".
export function itemsOf(step, layers, view) {
  const items = [];
  for (const q of step.explanation) {
    if (!q.matrix.rhs) continue; // a given (the input a0), not a quantity to work out
    const stage = stageOf(q, layers);
    if (view === "matrix") {
      items.push({ label: q.key, q, stage, equation: q.matrix, shape: shapeOf(q.matrix.value) });
    } else {
      for (const equation of q.neuron) {
        const index = equation.lhs.index || [];
        const label = index.length ? `${q.key}[${index.join(",")}]` : q.key;
        items.push({ label, q, stage, equation, shape: [1, 1] });
      }
    }
  }
  return items.sort((x, y) => x.stage - y.stage); // stable: the trace's order within a stage
}

// An answer as the answers file writes it: one number, a list (a vector), or rows (a matrix).
export function answerValue(strings, [rows, columns]) {
  if (rows * columns === 1) return strings[0];
  if (rows === 1 || columns === 1) return strings;
  return Array.from({ length: rows }, (_, r) => strings.slice(r * columns, (r + 1) * columns));
}

// A short stable name of a spec, for its progress in localStorage (FNV-1a over its JSON).
export function specKey(spec) {
  let hash = 0x811c9dc5;
  for (const char of JSON.stringify(spec)) {
    hash ^= char.codePointAt(0);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash.toString(16).padStart(8, "0");
}

function entryLabel(entry) {
  return entry.index ? `${entry.key}[${entry.index.join(",")}]` : entry.key;
}

// What the grader said about one answer, in a sentence.
function feedbackOf(entry, revealed) {
  if (revealed) return { kind: "revealed", text: "Answer shown: it opens the next stage, but it does not count as solved." };
  if (!entry) return { kind: "", text: "" };
  switch (entry.status) {
    case "correct": return { kind: "correct", text: "✓ Correct." };
    case "carried": {
      const from = entry.carried_from.join(", ");
      return { kind: "carried", text: `↪ Carried forward: right when worked from your earlier ${from}, which ${entry.carried_from.length > 1 ? "were" : "was"} not right, so it counts.` };
    }
    case "wrong": {
      const sentence = (text) => text.charAt(0).toUpperCase() + text.slice(1).replace(/([^.])$/, "$1.");
      const why = entry.mistakes.map((m) => sentence(m.explanation)).join(" Or: ");
      return { kind: "wrong", text: `✗ Not right. ${why || "No known mistake gives this value: check the arithmetic, or take a hint."}` };
    }
    case "invalid": return { kind: "invalid", text: `⚠ ${entry.problem || "not a number"}` };
    default: return { kind: "", text: "" };
  }
}

function load(key) {
  try {
    const saved = JSON.parse(localStorage.getItem(STORE + key));
    if (saved && typeof saved === "object") return { active: !!saved.active, answers: saved.answers || {}, hints: saved.hints || {} };
  } catch { /* unreadable progress is started afresh */ }
  return { active: false, answers: {}, hints: {} };
}

// ui: {panel, toggle, newExercise, offlineNote}; hooks: {spec(), trace(), view(), offline,
// setView(view) -> Promise, showing(on), focusKey(key), loadExercise(query) -> Promise}.
export function createPractice(ui, hooks) {
  let key = null; // the spec's hash: the progress's name
  let progress = load("");
  let results = {}; // label -> the grader's entry
  let items = [];
  let exercise = null; // {key, hash, about}: the exercise the link names
  let pending = null; // {hash, about}, until its spec is loaded

  const save = () => {
    try {
      if (key) localStorage.setItem(STORE + key, JSON.stringify(progress));
    } catch { /* storage full or refused: practice goes on, unsaved */ }
  };
  const revealed = (label) => (progress.hints[label] || 0) >= 3;
  const done = (label) => revealed(label) || ["correct", "carried"].includes((results[label] || {}).status);
  const openStage = () => {
    const first = items.find((item) => !done(item.label));
    return first ? first.stage : STAGES.length;
  };

  // ---- grading ---------------------------------------------------------------------------------

  // Every answer so far to the grader. data-graded counts the requests; data-checked names the
  // last one whose reply a Check has shown (tests wait on it).
  async function grade() {
    const mine = Number(ui.panel.dataset.graded || 0) + 1;
    ui.panel.dataset.graded = String(mine);
    const labels = new Set(items.map((item) => item.label));
    const answers = {};
    for (const item of items) {
      if (progress.answers[item.label]) answers[item.label] = answerValue(progress.answers[item.label], item.shape);
    }
    if (!Object.keys(answers).length) {
      results = {};
      return null;
    }
    try {
      // the page's spec is always (n_out, n_in), weights_layout out_in (web/specs.explicit_spec):
      // the view it prints, so the learner's answers are graded in it
      const reply = await api("/api/grade", { spec: hooks.spec(), answers });
      if (String(mine) !== ui.panel.dataset.graded) return null; // a later check's reply rules
      results = {};
      for (const entry of reply.entries) {
        const label = entryLabel(entry);
        if (entry.step === 1 && labels.has(label) && entry.status !== "missing") results[label] = entry;
      }
      return null;
    } catch (error) {
      if (!(error instanceof ApiError)) throw error;
      return error.message;
    }
  }

  async function submit(item, box) {
    const fields = [...box.querySelectorAll("input")];
    const strings = fields.map((input) => input.value.trim().replace(/\u2212/g, "-"));
    if (strings.some((text) => text === "")) {
      say(box, { kind: "invalid", text: `⚠ Fill in every entry of ${symbolText(item.q.kind, item.q.layer)} first.` });
      return;
    }
    progress.answers[item.label] = strings; // as typed: the grader judges each at its own decimals
    save();
    const problem = await grade();
    update();
    ui.panel.dataset.checked = ui.panel.dataset.graded;
    if (problem) {
      say(box, { kind: "invalid", text: `⚠ ${problem}` });
      return;
    }
    if (done(item.label)) focusNext(item);
  }

  function focusNext(item) {
    const next = items.find((other) => !done(other.label) && other.stage <= openStage() && other !== item);
    const input = next && ui.panel.querySelector(`[data-label="${CSS.escape(next.label)}"] input`);
    if (input) input.focus();
  }

  function hint(item, box) {
    const level = Math.min((progress.hints[item.label] || 0) + 1, 3);
    progress.hints[item.label] = level;
    if (level === 3) { // the answer, written into the fields with every digit the engine has
      progress.answers[item.label] = flat(item.equation.value).map((v) => String(v));
      box.querySelectorAll("input").forEach((input, n) => { input.value = progress.answers[item.label][n]; });
    }
    save();
    update();
    if (level === 3) grade().then(update); // the shown answer, judged with the rest
  }

  // ---- drawing ---------------------------------------------------------------------------------

  function say(box, { kind, text }) {
    const feedback = box.querySelector("[data-testid=feedback]");
    feedback.textContent = text;
    feedback.className = `feedback ${kind}`;
    box.dataset.status = kind;
  }

  function givens(step) {
    const parts = [[{ sym: "eta" }, step.learning_rate], [{ sym: "a", layer: 0 }, step.input],
      [{ sym: "y" }, step.target]];
    for (const u of step.update) parts.push([{ sym: "W", layer: u.layer }, u.W_old], [{ sym: "b", layer: u.layer }, u.b_old]);
    const box = el("div", { class: "givens", "data-testid": "givens" });
    box.innerHTML = parts.map(([node, value]) => `<span class="given">${math(`${symbolML(node)}<mo>=</mo>${valueML(value)}`)}</span>`).join("");
    return box;
  }

  function itemBox(item) {
    const name = symbolText(item.q.kind, item.q.layer) + item.label.slice(item.q.key.length);
    const [rows, columns] = item.shape;
    const grid = el("div", { class: "fields", style: `--columns: ${columns}` });
    const saved = progress.answers[item.label] || [];
    for (let n = 0; n < rows * columns; n += 1) {
      const r = Math.floor(n / columns) + 1;
      const c = (n % columns) + 1;
      const where = rows * columns === 1 ? "" : rows === 1 || columns === 1 ? `[${n + 1}]` : `[${r},${c}]`;
      grid.append(el("input", {
        "data-testid": `field-${n + 1}`, "aria-label": `${name}${where}`, inputmode: "decimal",
        autocomplete: "off", spellcheck: "false", value: saved[n] ?? "",
      }));
    }
    const box = el("form", { class: "item", "data-testid": `item-${item.label}`, "data-label": item.label, novalidate: "" },
      el("div", { class: "item-head" }, el("strong", {}, name), el("span", { class: "words" }, ` ${words(item.q.kind, item.q.layer)}`)),
      el("div", { class: "item-body" }, grid,
        el("div", { class: "item-actions" },
          el("button", { type: "submit", "data-testid": "check" }, "Check"),
          el("button", { type: "button", "data-testid": "hint" }, HINTS[0]))),
      el("p", { class: "feedback", "data-testid": "feedback", "aria-live": "polite" }),
      el("div", { class: "hints", "data-testid": "hints" }));
    box.addEventListener("submit", (event) => { event.preventDefault(); submit(item, box); });
    box.querySelector("[data-testid=hint]").addEventListener("click", () => hint(item, box));
    box.addEventListener("focusin", () => hooks.focusKey(item.q.key));
    return box;
  }

  function build() {
    const trace = hooks.trace();
    const step = trace.steps[0];
    items = itemsOf(step, trace.network.layers.length, hooks.view());
    const multi = trace.steps.length > 1 ? el("p", { class: "note" }, "Practice works on the first traced step.") : null;
    const stages = STAGES.map((title, s) => {
      const mine = items.filter((item) => item.stage === s);
      if (!mine.length) return null;
      return el("div", { class: "stage", role: "group", "data-testid": `stage-${s + 1}`, "aria-label": title },
        el("h3", {}, `${s + 1} · ${title}`),
        el("p", { class: "locked-note", "data-testid": "locked" }, "Opens once every answer above is right or carried."),
        ...mine.map(itemBox));
    });
    const views = el("span", { class: "views", role: "radiogroup", "aria-label": "answer" },
      ...[["matrix", "whole vectors and matrices"], ["neuron", "entry by entry"]].map(([view, text]) => {
        const radio = el("input", { type: "radio", name: "practice-view", value: view,
          "data-testid": `practice-view-${view}`, checked: view === hooks.view() ? "" : null });
        radio.addEventListener("change", async () => {
          await hooks.setView(view);
          ui.panel.querySelector(`[data-testid=practice-view-${view}]`).focus();
        });
        return el("label", {}, radio, ` ${text}`);
      }));
    const parts = [
      el("div", { class: "practice-head" }, el("h2", {}, "Practice"), views),
      el("p", { class: "score", "data-testid": "score", "aria-live": "polite" }),
      exercise && exercise.key === key ? el("p", { class: "note", "data-testid": "exercise-seed" }, exercise.about) : null,
      el("p", { class: "note" }, "Work out each quantity and type it with the decimals you kept; each answer is judged at its own precision. The network's givens:"),
      givens(step), multi, ...stages];
    ui.panel.replaceChildren(...parts.filter((part) => part !== null));
  }

  function update() {
    const open = openStage();
    for (const section of ui.panel.querySelectorAll(".stage")) {
      const s = Number(section.dataset.testid.slice(6)) - 1;
      const locked = s > open;
      section.classList.toggle("locked", locked);
      section.querySelector("[data-testid=locked]").hidden = !locked;
      for (const control of section.querySelectorAll("input, button")) control.disabled = locked;
    }
    for (const item of items) {
      const box = ui.panel.querySelector(`[data-label="${CSS.escape(item.label)}"]`);
      const level = progress.hints[item.label] || 0;
      say(box, feedbackOf(results[item.label], revealed(item.label)));
      const button = box.querySelector("[data-testid=hint]");
      button.textContent = HINTS[Math.min(level, 2)];
      button.hidden = level >= 3;
      box.querySelector("[data-testid=hints]").innerHTML = level ? equationHTML(item.equation, level) : "";
      if (revealed(item.label)) box.querySelectorAll("input").forEach((input) => { input.readOnly = true; });
    }
    const solved = items.filter((item) => !revealed(item.label) && done(item.label)).length;
    const shown = items.filter((item) => revealed(item.label)).length;
    const used = items.reduce((sum, item) => sum + (progress.hints[item.label] || 0), 0);
    ui.panel.querySelector("[data-testid=score]").textContent = `Solved ${solved} / ${items.length} · hints used ${used}`
      + (shown ? ` (${shown} answer${shown > 1 ? "s" : ""} shown)` : "")
      + (open >= STAGES.length ? " · every stage done" : ` · now: ${STAGES[open]}`);
  }

  // ---- switching -------------------------------------------------------------------------------

  async function start() {
    build();
    await grade();
    update();
  }

  function setActive(on) {
    progress.active = on;
    save();
    ui.toggle.checked = on;
    ui.panel.hidden = !on;
    hooks.showing(on);
  }

  const practice = {
    get active() { return !!progress.active; },
    // The trace changed (a load, an edit) or the view did: this spec's progress, redrawn.
    async refresh() {
      if (hooks.offline || !hooks.trace()) return;
      const now = specKey(hooks.spec());
      if (pending) exercise = { key: now, ...pending };
      if (now !== key) {
        const was = !!progress.active || pending !== null; // practising goes on with the next spec
        key = now;
        progress = load(key);
        progress.active = progress.active || was;
      }
      pending = null;
      if (exercise && exercise.key === key) history.replaceState(null, "", exercise.hash);
      setActive(progress.active);
      if (progress.active) await start();
    },
    // The next spec loaded is the exercise this link names (the link keeps naming it).
    remember(hash, about) {
      pending = { hash, about };
    },
  };

  ui.toggle.addEventListener("change", async () => {
    if (hooks.offline) {
      ui.toggle.checked = false;
      ui.offlineNote.hidden = false;
      return;
    }
    setActive(ui.toggle.checked);
    if (progress.active) await start();
  });
  ui.newExercise.addEventListener("click", async () => {
    const seed = crypto.getRandomValues(new Uint32Array(1))[0] % 1_000_000;
    await hooks.loadExercise(`seed=${seed}`);
  });
  return practice;
}
