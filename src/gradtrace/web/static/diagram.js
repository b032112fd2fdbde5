// The network as an SVG diagram: neurons show a (for one sample) and, when the server sent them,
// each unit's activation over the input plane as a heat map; edges W, colour by sign, width by
// magnitude. It draws values from the trace and /api/train and reports clicks; it computes nothing.

import { formatNumber } from "./mathml.js";

const SVG_NS = "http://www.w3.org/2000/svg";
const WIDTH = 640;
const HEIGHT = 380;
const RADIUS = 21;
const POSITIVE = "#2166ac";
const NEGATIVE = "#d6604d";
const THUMB = 2 * RADIUS;

// A thumbnail's values: v = lo + q (hi - lo) / 255 for each byte q (web/training.py thumbnails).
export function decodeUnit(unit) {
  const bytes = atob(unit.bytes);
  const [lo, hi] = unit.range;
  const values = new Float64Array(bytes.length);
  for (let i = 0; i < bytes.length; i += 1) values[i] = lo + (bytes.charCodeAt(i) * (hi - lo)) / 255;
  return values;
}

// Diverging colour for a value: orange below 0, white at 0, blue above; |v| >= 1 saturates.
export function divergingColour(v) {
  const t = Math.min(Math.abs(v), 1);
  const [r, g, b] = v >= 0 ? [33, 102, 172] : [214, 96, 77];
  return [255 - (255 - r) * t, 255 - (255 - g) * t, 255 - (255 - b) * t].map(Math.round);
}

// One unit's heat map drawn into a canvas, pixel by pixel (row 0 is the lowest y: at the bottom).
// A canvas in the SVG (foreignObject), not a PNG data URL: encoding eleven PNGs a frame cost
// 12 ms of a 33 ms frame.
const canvases = new Map(); // one canvas per unit, reused frame after frame (creating is slow)

function thumbnailCanvas(key, unit, size, colour) {
  const values = decodeUnit(unit);
  let canvas = canvases.get(key);
  if (!canvas) {
    canvas = document.createElement("canvas");
    canvases.set(key, canvas);
  }
  if (canvas.width !== size) {
    canvas.width = size;
    canvas.height = size;
  }
  const ctx = canvas.getContext("2d");
  const image = ctx.createImageData(size, size);
  const pixels = image.data;
  for (let r = 0; r < size; r += 1) {
    for (let c = 0; c < size; c += 1) {
      const rgb = colour(values[r * size + c]);
      const at = ((size - 1 - r) * size + c) * 4;
      pixels[at] = rgb[0];
      pixels[at + 1] = rgb[1];
      pixels[at + 2] = rgb[2];
      pixels[at + 3] = 255;
    }
  }
  ctx.putImageData(image, 0, 0);
  return canvas;
}

function thumbnail(x, y, side, canvas, attributes) {
  const box = svgEl("foreignObject", { x: x - side / 2, y: y - side / 2, width: side, height: side, ...attributes });
  box.append(canvas);
  return box;
}

function svgEl(name, attributes = {}, text = null) {
  const el = document.createElementNS(SVG_NS, name);
  for (const [key, value] of Object.entries(attributes)) el.setAttribute(key, value);
  if (text !== null) el.textContent = text;
  return el;
}

function positions(sizes) {
  const columns = sizes.length;
  return sizes.map((n, l) => {
    const x = 60 + (l * (WIDTH - 120)) / Math.max(columns - 1, 1);
    const gap = Math.min(70, (HEIGHT - 70) / Math.max(n, 1));
    const top = (HEIGHT - 30 - gap * (n - 1)) / 2;
    return Array.from({ length: n }, (_, j) => ({ x, y: top + j * gap }));
  });
}

// Which neurons or edges a quantity lives on: {nodes: layer | null, edges: layer | null}.
export function highlightOf(quantity, layers) {
  if (!quantity) return { nodes: null, edges: null };
  const { kind, layer } = quantity;
  if (kind === "C" || kind === "grad_a") return { nodes: layers, edges: null };
  if (kind === "W" || kind === "grad_W" || kind === "W_new") return { nodes: null, edges: layer };
  return { nodes: layer, edges: null };
}

// view: {sizes, activations, weights[l-1], newWeights[l-1] | null, values[l] (per unit) | null,
//        units (thumbnails from /api/train) | null, outputColour(v), inputNames[k],
//        highlight, selected, onNode(l, j), onEdge(l, j, k)}
export function drawDiagram(svg, view) {
  svg.replaceChildren();
  svg.setAttribute("viewBox", `0 0 ${WIDTH} ${HEIGHT}`);
  const at = positions(view.sizes);
  const L = view.sizes.length - 1;
  let largest = 1e-12;
  for (const W of view.weights) for (const row of W) for (const w of row) largest = Math.max(largest, Math.abs(w));
  // a label per edge only where they cannot overlap (two units a column at most); otherwise
  // an edge shows its label while hovered or focused
  const labelled = Math.max(...view.sizes) <= 2;
  svg.classList.toggle("hover-labels", !labelled);
  const edges = svgEl("g", { class: "edges" });
  for (let l = 1; l <= L; l += 1) {
    const W = view.newWeights && view.newWeights[l - 1] ? view.newWeights[l - 1] : view.weights[l - 1];
    for (let j = 0; j < view.sizes[l]; j += 1) {
      for (let k = 0; k < view.sizes[l - 1]; k += 1) {
        edges.append(edge(view, at, l, j, k, W[j][k], largest));
      }
    }
  }
  svg.append(edges);
  const nodes = svgEl("g", { class: "nodes" });
  for (let l = 0; l <= L; l += 1) {
    for (let j = 0; j < view.sizes[l]; j += 1) nodes.append(node(view, at, l, j));
    const caption = l === 0 ? "input a0" : `a${l} ${view.activations[l - 1]}`;
    if (l === 0 && view.inputNames) {
      view.inputNames.forEach((name, j) => nodes.append(svgEl("text", {
        x: at[0][j].x - RADIUS - 4, y: at[0][j].y + 4, class: "input-name" }, name)));
    }
    nodes.append(svgEl("text", { x: at[l][0].x, y: HEIGHT - 8, class: "layer-label" }, caption));
  }
  svg.append(nodes);
  svg.append(svgEl("g", { class: "overlay", "pointer-events": "none" }));
}

function edge(view, at, l, j, k, w, largest) {
  const from = at[l - 1][k];
  const to = at[l][j];
  const current = view.highlight.edges === l;
  const selected = view.selected && view.selected.type === "edge" && view.selected.layer === l
    && view.selected.j === j && view.selected.k === k;
  const title = `W${l}[${j + 1},${k + 1}] = ${formatNumber(w)}`;
  const group = svgEl("g", {
    class: `edge${current ? " current" : ""}${selected ? " selected" : ""}`,
    "data-testid": `edge-${l}-${j + 1}-${k + 1}`,
    tabindex: "0", role: "button", "aria-label": `weight ${title}`,
  });
  const width = 1 + 7 * Math.sqrt(Math.abs(w) / largest);
  const attrs = { x1: from.x, y1: from.y, x2: to.x, y2: to.y };
  group.append(svgEl("line", { ...attrs, class: "hit", "stroke-width": 14 }));
  group.append(svgEl("line", { ...attrs, stroke: w >= 0 ? POSITIVE : NEGATIVE, "stroke-width": width.toFixed(2) }));
  group.append(svgEl("title", {}, title));
  const t = 0.3;
  const x = from.x + (to.x - from.x) * t;
  const y = from.y + (to.y - from.y) * t - 4;
  group.append(svgEl("text", { x, y, class: "edge-label" }, formatNumber(w, 3)));
  group.addEventListener("click", () => view.onEdge(l, j, k));
  group.addEventListener("keydown", (event) => {
    if (event.key === "Enter" || event.key === " ") {
      event.preventDefault();
      view.onEdge(l, j, k);
    }
  });
  return group;
}

function node(view, at, l, j) {
  const { x, y } = at[l][j];
  const value = view.values && view.values[l] ? view.values[l][j] : null;
  const current = view.highlight.nodes === l;
  const selected = view.selected && view.selected.type === "node" && view.selected.layer === l
    && view.selected.j === j;
  const group = svgEl("g", {
    class: `node${current ? " current" : ""}${selected ? " selected" : ""}`,
    "data-testid": `node-${l}-${j + 1}`,
    tabindex: "0", role: "button",
    "aria-label": `neuron a${l}[${j + 1}]${value === null ? "" : ` = ${formatNumber(value)}`}`,
  });
  const unit = view.units && view.units.layers[l] ? view.units.layers[l][j] : null;
  if (unit) {
    // the unit's activation over the input plane; hovering enlarges it (CSS)
    const colour = l === view.sizes.length - 1 && view.outputColour ? view.outputColour : divergingColour;
    const gap = at[l].length > 1 ? at[l][1].y - at[l][0].y : 100;
    const side = Math.min(THUMB, gap - 4); // neighbours never overlap
    group.classList.add("has-thumb");
    group.append(svgEl("rect", { x: x - side / 2, y: y - side / 2, width: side, height: side, class: "frame" }));
    const canvas = thumbnailCanvas(`${l}-${j}`, unit, view.units.size, colour);
    group.append(thumbnail(x, y, side, canvas, {
      class: "thumb", "data-testid": `thumb-${l}-${j + 1}`, "data-bytes": unit.bytes,
    }));
    if (value !== null && gap >= side + 14) {
      group.append(svgEl("text", { x, y: y + side / 2 + 11, class: "node-value under" }, formatNumber(value, 3)));
    }
    // enlarged on hover or focus: a copy in the overlay above every node (SVG paints in order)
    const show = () => {
      const overlay = group.ownerSVGElement.querySelector(".overlay");
      const big = 3 * side;
      const copy = document.createElement("canvas");
      copy.width = canvas.width;
      copy.height = canvas.height;
      copy.getContext("2d").drawImage(canvas, 0, 0);
      overlay.replaceChildren(thumbnail(x, Math.max(y, big / 2), big, copy, {
        class: "enlarged", "data-testid": "thumb-enlarged" }));
    };
    const hide = () => group.ownerSVGElement && group.ownerSVGElement.querySelector(".overlay").replaceChildren();
    group.addEventListener("mouseenter", show);
    group.addEventListener("focus", show);
    group.addEventListener("mouseleave", hide);
    group.addEventListener("blur", hide);
  } else {
    const fill = value === null ? "#fff" : shade(value);
    group.append(svgEl("circle", { cx: x, cy: y, r: RADIUS, fill }));
    group.append(svgEl("text", { x, y: y + 4, class: "node-value" }, value === null ? "" : formatNumber(value, 3)));
  }
  group.append(svgEl("title", {}, `a${l}[${j + 1}] = ${value === null ? "" : formatNumber(value)}`));
  group.addEventListener("click", () => view.onNode(l, j));
  group.addEventListener("keydown", (event) => {
    if (event.key === "Enter") view.onNode(l, j);
  });
  return group;
}

// Activations tinted by sign and size (tanh-squashed so large values stay readable).
function shade(value) {
  const s = Math.tanh(Math.abs(value));
  const [r, g, b] = value >= 0 ? [33, 102, 172] : [214, 96, 77];
  const mix = (c) => Math.round(255 - (255 - c) * s * 0.45);
  return `rgb(${mix(r)},${mix(g)},${mix(b)})`;
}
