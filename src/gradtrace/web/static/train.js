// Train: play / pause / single step through POST /api/train, a live loss curve and, for 2-D
// datasets, the network's output over the plane as a heat map. Drawing only; the server trains.

import { api } from "./api.js";
import { formatNumber } from "./mathml.js";

const LOW = [214, 96, 77];
const MID = [247, 247, 247];
const HIGH = [33, 102, 172];
const CLASSES = [[214, 96, 77], [33, 102, 172], [90, 174, 97], [153, 112, 171], [224, 130, 20]];

function blend(a, b, t) {
  return a.map((c, i) => Math.round(c + (b[i] - c) * t));
}

function outputColour(v) {
  const t = Math.min(Math.max(v, 0), 1);
  return t < 0.5 ? blend(LOW, MID, t * 2) : blend(MID, HIGH, (t - 0.5) * 2);
}

export function drawLoss(canvas, losses) {
  const ctx = canvas.getContext("2d");
  const { width, height } = canvas;
  ctx.clearRect(0, 0, width, height);
  ctx.strokeStyle = "#bbb";
  ctx.strokeRect(40.5, 10.5, width - 50, height - 35);
  if (!losses.length) return;
  const top = Math.max(...losses.filter(Number.isFinite), 1e-12);
  ctx.fillStyle = "#444";
  ctx.font = "11px sans-serif";
  ctx.fillText(formatNumber(top, 3), 2, 16);
  ctx.fillText("0", 28, height - 25);
  ctx.fillText(`${losses.length} steps`, width - 70, height - 8);
  ctx.strokeStyle = "#2166ac";
  ctx.lineWidth = 1.5;
  ctx.beginPath();
  losses.forEach((loss, i) => {
    const x = 41 + ((width - 52) * i) / Math.max(losses.length - 1, 1);
    const y = 10 + (height - 36) * (1 - loss / top);
    if (i === 0) ctx.moveTo(x, y);
    else ctx.lineTo(x, y);
  });
  ctx.stroke();
}

export function drawBoundary(canvas, grid, points) {
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
  for (let r = 0; r < n; r += 1) {
    for (let c = 0; c < n; c += 1) {
      const v = grid.values[r][c];
      const rgb = grid.kind === "class" ? CLASSES[v % CLASSES.length].map((x) => Math.round(x * 0.35 + 255 * 0.65)) : outputColour(v);
      const at = ((n - 1 - r) * n + c) * 4; // row 0 is the lowest y: draw it at the bottom
      image.data.set([...rgb, 255], at);
    }
  }
  const scratch = document.createElement("canvas");
  scratch.width = n;
  scratch.height = n;
  scratch.getContext("2d").putImageData(image, 0, 0);
  ctx.imageSmoothingEnabled = true;
  ctx.drawImage(scratch, 0, 0, width, height);
  if (!points) return;
  const [x0, x1] = grid.x;
  const [y0, y1] = grid.y;
  points.x.forEach(([px, py], i) => {
    const label = points.label ? points.label[i] : 0;
    ctx.beginPath();
    ctx.arc(((px - x0) / (x1 - x0)) * width, (1 - (py - y0) / (y1 - y0)) * height, 2.6, 0, 2 * Math.PI);
    ctx.fillStyle = `rgb(${CLASSES[label % CLASSES.length].join(",")})`;
    ctx.fill();
    ctx.strokeStyle = "#fff";
    ctx.lineWidth = 0.8;
    ctx.stroke();
  });
}

function numberOr(input, fallback) {
  const value = Number(input.value);
  return input.value.trim() === "" || !Number.isFinite(value) ? fallback : value;
}

// ui: the panel's elements; hooks: {getSpec(), setSpec(spec), done(), error(message), clear()}
export function createTrainer(ui, hooks) {
  const losses = [];
  let playing = false;

  async function frame() {
    const request = {
      spec: hooks.getSpec(),
      dataset: ui.dataset.value,
      points: numberOr(ui.points, 200),
      steps: numberOr(ui.frameSteps, 10),
      grid: 50,
    };
    if (ui.noise.value.trim() !== "") request.noise = numberOr(ui.noise, null);
    const result = await api("/api/train", request);
    losses.push(...result.loss);
    hooks.setSpec(result.spec);
    drawLoss(ui.lossCurve, losses);
    drawBoundary(ui.boundary, result.grid, result.points);
    const accuracy = result.accuracy === null ? "" : ` · accuracy ${(100 * result.accuracy).toFixed(1)}%`;
    ui.status.textContent = `step ${losses.length} · loss ${formatNumber(losses[losses.length - 1], 4)}${accuracy} · ${result.server_ms.toFixed(1)} ms`;
    ui.status.dataset.loss = String(losses[losses.length - 1]);
    ui.status.dataset.steps = String(losses.length);
  }

  async function run(once) {
    playing = !once;
    ui.play.disabled = true;
    ui.step.disabled = true;
    ui.pause.disabled = once;
    try {
      do {
        await frame();
        await new Promise((resolve) => requestAnimationFrame(resolve));
      } while (playing);
    } catch (error) {
      hooks.error(error.message);
    } finally {
      playing = false;
      ui.play.disabled = false;
      ui.step.disabled = false;
      ui.pause.disabled = true;
      await hooks.done();
    }
  }

  ui.play.addEventListener("click", () => run(false));
  ui.step.addEventListener("click", () => run(true));
  ui.pause.addEventListener("click", () => { playing = false; });
  ui.reset.addEventListener("click", () => {
    losses.length = 0;
    drawLoss(ui.lossCurve, losses);
    ui.status.textContent = "";
  });
  drawLoss(ui.lossCurve, losses);
  return { stop() { playing = false; } };
}
