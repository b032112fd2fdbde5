// The inspector (one neuron's or edge's quantities) and the edit form. Values come from the trace.

import { formatNumber, symbolText } from "./mathml.js";

export function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attributes)) {
    if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else if (value !== null && value !== undefined && value !== false) node.setAttribute(key, value);
  }
  node.append(...children.filter((c) => c !== null && c !== undefined));
  return node;
}

function numberInput(testid, value, onCommit, disabled) {
  const input = el("input", { "data-testid": testid, value: formatNumber(value, 12).replace(/\u2212/g, "-"), size: 9 });
  input.disabled = disabled;
  input.addEventListener("change", () => onCommit(input.value));
  return input;
}

function row(label, value, jumpKey, actions) {
  const jump = jumpKey ? el("button", { class: "link", onclick: () => actions.jump(jumpKey) }, "explain") : null;
  return el("tr", {}, el("th", {}, label), el("td", {}, value), el("td", {}, jump));
}

function oldNew(before, after) {
  return after === before ? formatNumber(before) : `${formatNumber(before)} → ${formatNumber(after)}`;
}

// selected: {type: "node"|"edge", layer, j, k?}; step: a trace step; sample: column index.
export function renderInspector(box, selected, step, sample, actions) {
  box.replaceChildren();
  if (!selected || !step) {
    box.hidden = true;
    return;
  }
  box.hidden = false;
  const { layer: l, j } = selected;
  const rows = [];
  let title;
  const offline = actions.offline;
  if (selected.type === "edge") {
    const { k } = selected;
    const update = step.update[l - 1];
    const grad = step.backward.find((r) => r.layer === l).grad_W;
    title = `weight W${l}[${j + 1},${k + 1}] from a${l - 1}[${k + 1}] to neuron ${j + 1} of layer ${l}`;
    rows.push(row("W (edit)", numberInput("edit-weight", update.W_old[j][k], (v) => actions.setWeight(l, j, k, v), offline)));
    rows.push(row(symbolText("grad_W", l) + `[${j + 1},${k + 1}]`, formatNumber(grad[j][k]), `grad_W${l}`, actions));
    rows.push(row("W old → new", oldNew(update.W_old[j][k], update.W_new[j][k]), `W${l}_new`, actions));
  } else if (l === 0) {
    title = `input ${j + 1} (sample ${sample + 1})`;
    rows.push(row(`a0[${j + 1}] (edit)`, numberInput("edit-input", step.input[j][sample], (v) => actions.setData("input", sample, j, v), offline), "a0", actions));
  } else {
    const f = step.forward[l - 1];
    const b = step.backward.find((r) => r.layer === l);
    const u = step.update[l - 1];
    const L = step.forward.length;
    title = `neuron ${j + 1} of layer ${l} (sample ${sample + 1})`;
    rows.push(row(`z${l}[${j + 1}]`, formatNumber(f.z[j][sample]), `z${l}`, actions));
    rows.push(row(`a${l}[${j + 1}]`, formatNumber(f.a[j][sample]), `a${l}`, actions));
    if (l === L) {
      rows.push(row(`y[${j + 1}] (edit)`, numberInput("edit-target", step.target[j][sample], (v) => actions.setData("target", sample, j, v), offline), "cost", actions));
    }
    rows.push(row(`${symbolText("delta", l)}[${j + 1}]`, formatNumber(b.delta[j][sample]), `delta${l}`, actions));
    rows.push(row(`b${l}[${j + 1}] (edit)`, numberInput("edit-bias", u.b_old[j][0], (v) => actions.setBias(l, j, v), offline)));
    rows.push(row(`${symbolText("grad_b", l)}[${j + 1}]`, formatNumber(b.grad_b[j][0]), `grad_b${l}`, actions));
    rows.push(row("b old → new", oldNew(u.b_old[j][0], u.b_new[j][0]), `b${l}_new`, actions));
  }
  box.append(
    el("div", { class: "inspector-head" }, el("strong", {}, title),
      el("button", { class: "link", "data-testid": "close-inspector", onclick: actions.close }, "close")),
    el("table", {}, ...rows),
  );
}

function selectInput(testid, options, value, onChange, disabled) {
  const node = el("select", { "data-testid": testid });
  for (const name of options) node.append(el("option", { value: name, selected: name === value ? "" : null }, name));
  node.value = value;
  node.disabled = disabled;
  node.addEventListener("change", () => onChange(node.value));
  return node;
}

// The layer rows of the edit form: activation per layer, units -/+, add/remove a layer.
export function renderLayers(box, spec, options, actions) {
  box.replaceChildren();
  const sizes = [spec.layers[0].weights[0].length, ...spec.layers.map((layer) => layer.weights.length)];
  const off = actions.offline;
  const units = (l) => el("span", { class: "units" },
    el("button", { "data-testid": `remove-unit-${l}`, title: "remove a unit", onclick: () => actions.resize(l, -1), disabled: off || sizes[l] <= 1 ? "" : null }, "−"),
    el("span", { "data-testid": `units-${l}` }, ` ${sizes[l]} `),
    el("button", { "data-testid": `add-unit-${l}`, title: "add a unit", onclick: () => actions.resize(l, 1), disabled: off ? "" : null }, "+"));
  box.append(el("div", { class: "layer-row" }, el("strong", {}, "inputs"), units(0)));
  spec.layers.forEach((layer, i) => {
    const l = i + 1;
    const hidden = l < spec.layers.length;
    box.append(el("div", { class: "layer-row", "data-testid": `layer-${l}` },
      el("strong", {}, hidden ? `layer ${l}` : `layer ${l} (output)`), units(l),
      selectInput(`activation-${l}`, options.activations, layer.activation, (v) => actions.activation(l, v), off),
      hidden ? el("button", { "data-testid": `remove-layer-${l}`, onclick: () => actions.removeLayer(l), disabled: off ? "" : null }, "remove layer") : null));
  });
  box.append(el("button", { "data-testid": "add-layer", onclick: actions.addLayer, disabled: off ? "" : null }, "+ hidden layer"));
}

export function fillSelect(node, names, value) {
  node.replaceChildren(...names.map((name) => el("option", { value: name }, name)));
  if (value !== undefined) node.value = value;
}
