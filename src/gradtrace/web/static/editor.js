// Editing the spec the page holds (explicit layers): weights, biases, data, structure.
// These only change the numbers a user typed or the shapes; the server recomputes everything.

// A spec's data value as rows of samples: 0.5 -> [[0.5]], [1, 2] -> [[1, 2]].
export function asRows(value) {
  if (typeof value === "number") return [[value]];
  if (value.every((v) => typeof v === "number")) return [value.slice()];
  return value.map((row) => (Array.isArray(row) ? row.slice() : [row]));
}

export function clone(spec) {
  return JSON.parse(JSON.stringify(spec));
}

// The spec with data as rows, so that edits address one sample at a time.
export function normalised(spec) {
  const copy = clone(spec);
  if (copy.data) copy.data = { input: asRows(copy.data.input), target: asRows(copy.data.target) };
  return copy;
}

// Deterministic small starting values for new weights, in [-0.5, 0.5].
function fresh(i) {
  return Math.round((((i + 1) * 0.6180339887) % 1 - 0.5) * 100) / 100;
}

function freshMatrix(rows, columns, offset = 0) {
  return Array.from({ length: rows }, (_, j) => Array.from({ length: columns }, (_, k) => fresh(offset + j * columns + k)));
}

export function setWeight(spec, l, j, k, value) {
  const copy = clone(spec);
  copy.layers[l - 1].weights[j][k] = value;
  return copy;
}

export function setBias(spec, l, j, value) {
  const copy = clone(spec);
  const layer = copy.layers[l - 1];
  if (!layer.bias) layer.bias = layer.weights.map(() => 0);
  layer.bias[j] = value;
  return copy;
}

export function setData(spec, field, sample, j, value) {
  const copy = normalised(spec);
  copy.data[field][sample][j] = value;
  return copy;
}

export function sizesOf(spec) {
  return [spec.layers[0].weights[0].length, ...spec.layers.map((layer) => layer.weights.length)];
}

// Add (change = +1) or remove (change = -1) the last unit of layer l (0 = the inputs).
export function resizeLayer(spec, l, change) {
  const copy = normalised(spec);
  const L = copy.layers.length;
  const n = sizesOf(copy)[l];
  if (n + change < 1) return copy;
  if (l > 0) {
    const layer = copy.layers[l - 1];
    if (change > 0) {
      layer.weights.push(freshMatrix(1, layer.weights[0].length, 7 * n)[0]);
      if (layer.bias) layer.bias.push(0);
    } else {
      layer.weights.pop();
      if (layer.bias) layer.bias.pop();
    }
  }
  if (l < L) {
    for (const [j, row] of copy.layers[l].weights.entries()) {
      if (change > 0) row.push(fresh(3 * j + n));
      else row.pop();
    }
  }
  const field = l === 0 ? "input" : l === L ? "target" : null;
  if (field && copy.data) {
    for (const row of copy.data[field]) {
      if (change > 0) row.push(0);
      else row.pop();
    }
  }
  return copy;
}

// A new hidden layer just before the output layer, as wide as the layer below it.
export function addLayer(spec) {
  const copy = normalised(spec);
  const L = copy.layers.length;
  const n = sizesOf(copy)[L - 1];
  const activation = L > 1 ? copy.layers[L - 2].activation : "sigmoid";
  copy.layers.splice(L - 1, 0, {
    weights: freshMatrix(n, n, 11 * L), bias: Array(n).fill(0), activation,
  });
  return copy;
}

// Remove hidden layer l; the layer above it gets fresh weights when the widths differ.
export function removeLayer(spec, l) {
  const copy = normalised(spec);
  const sizes = sizesOf(copy);
  if (l < 1 || l >= copy.layers.length) return copy;
  copy.layers.splice(l - 1, 1);
  const above = copy.layers[l - 1];
  if (sizes[l] !== sizes[l - 1]) above.weights = freshMatrix(sizes[l + 1], sizes[l - 1], 5 * l);
  return copy;
}

export function setLayerActivation(spec, l, name) {
  const copy = clone(spec);
  copy.layers[l - 1].activation = name;
  if (name !== "leaky_relu") delete copy.layers[l - 1].slope;
  return copy;
}

export function setField(spec, name, value) {
  const copy = clone(spec);
  copy[name] = value;
  return copy;
}

// Parse a number typed by a user ("−0.5" with a true minus sign too); null if it is not one.
export function parseNumber(text) {
  const value = Number(String(text).trim().replace(/\u2212/g, "-"));
  return String(text).trim() === "" || !Number.isFinite(value) ? null : value;
}

// The input layer re-cut for other features: a weight column stays with its feature, a new
// feature gets fresh weights; the traced batch is dropped (the server sends the features' values).
export function remapInputs(spec, before, after) {
  const copy = normalised(spec);
  copy.layers[0].weights = copy.layers[0].weights.map((row, j) => after.map((name, k) => {
    const was = before.indexOf(name);
    return was >= 0 ? row[was] : fresh(13 * j + 5 * k + 1);
  }));
  delete copy.data;
  return copy;
}

// The same architecture with new starting weights: the spec by sizes, an initialiser and a seed,
// for the server to draw the weights.
export function reinitialised(spec, seed) {
  const copy = normalised(spec);
  const sizes = sizesOf(copy);
  const activations = copy.layers.map((layer) => layer.activation);
  delete copy.layers;
  return { ...copy, sizes, activations, init: "xavier", seed };
}

export function setOptimizerField(spec, name, value) {
  const copy = clone(spec);
  copy.optimizer = { ...(copy.optimizer || {}), [name]: value };
  return copy;
}
