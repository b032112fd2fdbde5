// Train: play / pause / single step through POST /api/train, a live train and test loss curve,
// and for 2-D datasets the network's output over the plane with the data. Drawing only; the
// server trains, splits the data, computes the features and each unit's heat map.

import { api } from "./api.js";
import { decodeUnit, divergingColour } from "./diagram.js";
import { formatNumber } from "./mathml.js";

const LOW = [214, 96, 77];
const MID = [247, 247, 247];
const HIGH = [33, 102, 172];
const CLASSES = [[214, 96, 77], [33, 102, 172], [90, 174, 97], [153, 112, 171], [224, 130, 20]];
export const HISTORY = 500; // loss points kept; beyond it every other one is dropped

function blend(a, b, t) {
  return a.map((c, i) => Math.round(c + (b[i] - c) * t));
}

// An output in [0, 1]: orange at 0, white at ½, blue at 1.
export function outputColour(v) {
  const t = Math.min(Math.max(v, 0), 1);
  return t < 0.5 ? blend(LOW, MID, t * 2) : blend(MID, HIGH, (t - 0.5) * 2);
}

// A bounded history: past ``limit`` points, keep every other one (the first and last always), so
// any number of steps draws in bounded time and memory.
export function thin(history, limit = HISTORY) {
  if (history.length <= limit) return history;
  return history.filter((_, i) => i % 2 === 0 || i === history.length - 1);
}

// The canvas's drawing size follows its laid-out width (it shrinks on a phone).
function fit(canvas, ratio) {
  const width = Math.round(canvas.clientWidth) || canvas.width;
  if (canvas.width !== width) {
    canvas.width = width;
    canvas.height = Math.round(width * ratio);
  }
}

// history: [{step, train, test}] (test null without a test split).
export function drawLoss(canvas, history) {
  fit(canvas, 0.5);
  const ctx = canvas.getContext("2d");
  const { width, height } = canvas;
  ctx.clearRect(0, 0, width, height);
  ctx.strokeStyle = "#bbb";
  ctx.strokeRect(40.5, 10.5, width - 50, height - 35);
  if (!history.length) return;
  let top = 1e-12; // a loop, not Math.max(...): any length
  for (const h of history) {
    if (Number.isFinite(h.train)) top = Math.max(top, h.train);
    if (Number.isFinite(h.test)) top = Math.max(top, h.test);
  }
  const first = history[0].step;
  const last = history[history.length - 1].step;
  ctx.fillStyle = "#444";
  ctx.font = "11px sans-serif";
  ctx.fillText(formatNumber(top, 3), 2, 16);
  ctx.fillText("0", 28, height - 25);
  ctx.fillText(`step ${last}`, width - 80, height - 8);
  const line = (key, colour, dash) => {
    ctx.strokeStyle = colour;
    ctx.setLineDash(dash);
    ctx.lineWidth = 1.6;
    ctx.beginPath();
    let started = false;
    for (const h of history) {
      const v = h[key];
      if (!Number.isFinite(v)) continue;
      const x = 41 + ((width - 52) * (h.step - first)) / Math.max(last - first, 1);
      const y = 10 + (height - 36) * (1 - v / top);
      if (started) ctx.lineTo(x, y);
      else ctx.moveTo(x, y);
      started = true;
    }
    ctx.stroke();
    ctx.setLineDash([]);
  };
  line("train", "#333", []);
  line("test", "#2166ac", [5, 3]);
}

function pointColour(points, i) {
  if (points.target) return divergingColour(points.target[i]);
  const label = points.label ? points.label[i] : 0;
  return CLASSES[label % CLASSES.length];
}

// options: {showTest, discrete, regression}
export function drawBoundary(canvas, grid, points, options = {}) {
  fit(canvas, 1);
  const ctx = canvas.getContext("2d");
  const { width, height } = canvas;
  ctx.clearRect(0, 0, width, height);
  if (!grid) {
    ctx.fillStyle = "#777";
    ctx.font = "12px sans-serif";
    ctx.fillText("no 2-D data to draw", 50, height / 2);
    return;
  }
  const n = grid.size;
  const image = ctx.createImageData(n, n);
  const flat = grid.bytes === undefined ? null : decodeUnit(grid); // compact: bytes and range
  for (let r = 0; r < n; r += 1) {
    for (let c = 0; c < n; c += 1) {
      let v = flat ? flat[r * n + c] : grid.values[r][c];
      if (flat && grid.kind === "class") v = Math.round(v);
      let rgb;
      if (grid.kind === "class") {
        rgb = CLASSES[v % CLASSES.length].map((x) => Math.round(x * 0.35 + 255 * 0.65));
      } else if (options.regression) {
        rgb = divergingColour(options.discrete ? Math.sign(v) : v);
      } else {
        if (options.discrete) v = v >= 0.5 ? 1 : 0;
        rgb = outputColour(v);
      }
      image.data.set([...rgb, 255], ((n - 1 - r) * n + c) * 4); // row 0 is the lowest y
    }
  }
  const scratch = document.createElement("canvas");
  scratch.width = n;
  scratch.height = n;
  scratch.getContext("2d").putImageData(image, 0, 0);
  ctx.imageSmoothingEnabled = !options.discrete;
  ctx.drawImage(scratch, 0, 0, width, height);
  if (!points) return;
  const [x0, x1] = grid.x;
  const [y0, y1] = grid.y;
  points.x.forEach(([px, py], i) => {
    const test = points.test && points.test[i];
    if (test && !options.showTest) return;
    ctx.beginPath();
    ctx.arc(((px - x0) / (x1 - x0)) * width, (1 - (py - y0) / (y1 - y0)) * height, 2.8, 0, 2 * Math.PI);
    ctx.fillStyle = `rgb(${pointColour(points, i).join(",")})`;
    ctx.fill();
    ctx.strokeStyle = test ? "#000" : "#fff"; // test points ringed in black, as in Playground
    ctx.lineWidth = test ? 1.2 : 0.8;
    ctx.stroke();
  });
}

function numberOr(input, fallback) {
  const value = Number(input.value);
  return input.value.trim() === "" || !Number.isFinite(value) ? fallback : value;
}

// ui: the panel's elements; hooks: {getSpec(), setSpec(spec), features(), regression(name),
// live(result), done(), error(message)}
export function createTrainer(ui, hooks) {
  let history = [];
  let steps = 0;
  let playing = false;
  let running = false;
  let seed = 0;
  let last = null; // the latest reply, redrawn when a display option changes
  let points = null; // the data, sent by a preview; frames leave it out

  function request(count, spec = hooks.getSpec(), sendPoints = true) {
    const body = {
      send_points: sendPoints,
      compact: true,
      spec,
      dataset: ui.dataset.value,
      points: numberOr(ui.points, 200),
      noise: numberOr(ui.noise, 0),
      seed,
      steps: count,
      grid: 40,
      thumbnail: 16,
      test_ratio: 1 - numberOr(ui.ratio, 50) / 100,
      features: hooks.features(),
      l1: numberOr(ui.l1, 0),
      start: steps,
    };
    const batch = numberOr(ui.batch, 0);
    if (batch > 0) body.batch_size = batch;
    if (body.test_ratio <= 0) body.test_ratio = 0;
    return api("/api/train", body);
  }

  function draw() {
    if (!last) return;
    drawLoss(ui.lossCurve, history);
    drawBoundary(ui.boundary, last.grid, last.points, {
      showTest: ui.showTest.checked, discrete: ui.discrete.checked,
      regression: hooks.regression(ui.dataset.value),
    });
  }

  function report(result) {
    if (result.points) points = result.points;
    last = { ...result, points: result.points || points };
    draw();
    const percent = (v) => (v === null ? "" : ` (accuracy ${(100 * v).toFixed(1)}%)`);
    const test = result.test_loss === null ? "" : ` · test loss ${formatNumber(result.test_loss, 4)}${percent(result.test_accuracy)}`;
    ui.status.textContent = `step ${steps} · training loss ${formatNumber(result.train_loss, 4)}${percent(result.accuracy)}${test} · ${result.server_ms.toFixed(1)} ms`;
    ui.status.dataset.loss = String(result.train_loss);
    ui.status.dataset.testLoss = String(result.test_loss);
    ui.status.dataset.steps = String(steps);
  }

  function frameRequest() {
    return request(numberOr(ui.frameSteps, 10), hooks.getSpec(), points === null);
  }

  // One frame's reply: its steps join the history, its network becomes the page's.
  function take(result) {
    steps += result.loss.length;
    history.push({ step: steps, train: result.train_loss, test: result.test_loss });
    history = thin(history);
    hooks.setSpec(result.spec);
  }

  // The data and the untrained network, drawn before any step (and after every change).
  async function preview(spec = hooks.getSpec()) {
    const result = await request(0, spec);
    if (!history.length) history.push({ step: 0, train: result.train_loss, test: result.test_loss });
    report(result);
    hooks.live(result, false);
    return result;
  }

  async function run(once) {
    if (running) return;
    running = true;
    playing = !once;
    ui.play.disabled = true;
    ui.step.disabled = true;
    ui.pause.disabled = once;
    let failed = false;
    try {
      // pipelined: the next frame's request leaves before this one is drawn, so the server
      // trains while the browser draws
      let pending = frameRequest();
      while (pending) {
        const result = await pending;
        take(result);
        pending = playing ? frameRequest() : null;
        report(result);
        hooks.live(result, true);
        await new Promise((resolve) => requestAnimationFrame(resolve));
      }
    } catch (error) {
      failed = true;
      hooks.error(error.message);
    } finally {
      playing = false;
      running = false;
      ui.play.disabled = false;
      ui.step.disabled = false;
      ui.pause.disabled = true;
      await hooks.done({ failed });
    }
  }

  function clear() {
    history = [];
    steps = 0;
    ui.status.textContent = "";
    drawLoss(ui.lossCurve, history);
  }

  ui.play.addEventListener("click", () => run(false));
  ui.step.addEventListener("click", () => run(true));
  ui.pause.addEventListener("click", () => { playing = false; });
  ui.reset.addEventListener("click", () => { clear(); preview().catch((e) => hooks.error(e.message)); });
  ui.regenerate.addEventListener("click", () => {
    seed += 1;
    clear();
    preview().catch((error) => hooks.error(error.message));
  });
  for (const input of [ui.showTest, ui.discrete]) input.addEventListener("change", draw);
  drawLoss(ui.lossCurve, history);
  return {
    stop() { playing = false; },
    get playing() { return running; },
    clear,
    preview,
    // A network the panel's data can't feed: no preview, the reason where the status goes.
    unfit(reason) { clear(); points = null; last = null; ui.status.textContent = reason; },
    history: () => history,
  };
}
