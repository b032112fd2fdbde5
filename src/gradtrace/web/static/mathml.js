// Print a gradtrace.trace/1 expression tree as MathML: by symbol (formula) or by value (numbers).
// Mirrors render/math.py (same precedence, same symbols from the notation table); it formats
// numbers the engine computed and never computes any itself.

const PRECEDENCE = { add: 1, sub: 1, neg: 2, mul: 3, hadamard: 4, matmul: 3, div: 3,
  square: 5, transpose: 5, call: 6 };
const ATOM = 7;

let notationTable = {};

export function setNotation(table) {
  notationTable = table || {};
}

function esc(text) {
  return String(text).replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

const mi = (t) => `<mi>${esc(t)}</mi>`;
const mo = (t) => `<mo>${esc(t)}</mo>`;
const mn = (t) => `<mn>${esc(t)}</mn>`;
const mrow = (...parts) => `<mrow>${parts.join("")}</mrow>`;

// A float to 6 significant digits, as Python's "{:.6g}", with a true minus sign.
export function formatNumber(value, precision = 6) {
  if (typeof value !== "number") return String(value);
  if (!Number.isFinite(value)) return String(value);
  // Python's "g": scientific when the rounded exponent is below -4 or at least the precision
  const [mantissa, exponent] = value.toExponential(precision - 1).split("e");
  const power = Number(exponent);
  let text = power < -4 || power >= precision ? `${Number(mantissa)}e${power}`
    : Number(value.toPrecision(precision)).toString();
  if (text === "-0") text = "0";
  return text.replace(/-/g, "\u2212");
}

function numberML(value) {
  const text = formatNumber(value);
  if (text.includes("e")) {
    const [mantissa, exponent] = text.split("e");
    return mrow(mn(mantissa), mo("\u00d7"), `<msup>${mn("10")}${mn(exponent)}</msup>`);
  }
  return text.startsWith("\u2212") ? mrow(mo("\u2212"), mn(text.slice(1))) : mn(text);
}

// A matrix as a bracketed table; a 1x1 matrix (or a scalar) as its number.
export function valueML(value) {
  if (typeof value === "number") return numberML(value);
  if (value.length === 1 && value[0].length === 1) return numberML(value[0][0]);
  const rows = value.map((row) => `<mtr>${row.map((v) => `<mtd>${numberML(v)}</mtd>`).join("")}</mtr>`);
  return mrow(`<mo stretchy="true">[</mo>`, `<mtable>${rows.join("")}</mtable>`,
    `<mo stretchy="true">]</mo>`);
}

// The base of a symbol from the notation table's text form: "a{l}" -> a, "W{l}'" -> W′.
function base(kind) {
  const text = (notationTable[kind] && notationTable[kind].text) || kind;
  return text.replace("{l}", "").replace("'", "\u2032");
}

function layered(name, layer, index) {
  const sup = layer === null || layer === undefined ? "" : mrow(mo("("), mn(layer), mo(")"));
  const sub = index && index.length ? mn(index.join(",")) : "";
  if (sup && sub) return `<msubsup>${mi(name)}${sub}${sup}</msubsup>`;
  if (sup) return `<msup>${mi(name)}${sup}</msup>`;
  if (sub) return `<msub>${mi(name)}${sub}</msub>`;
  return mi(name);
}

export function symbolML(node) {
  const name = base(node.sym);
  if (name.startsWith("\u2202C/\u2202")) {
    const target = layered(name.slice(4), node.layer, node.index);
    return `<mfrac>${mrow(mo("\u2202"), mi("C"))}${mrow(mo("\u2202"), target)}</mfrac>`;
  }
  if (name.includes("_")) {  // optimiser state of a parameter: v_W -> v with subscript W^(l)
    const [state, parameter] = name.split(/_(.*)/s);
    const sub = `<msub>${mi(state)}${layered(parameter, node.layer, null)}</msub>`;
    return node.index && node.index.length ? mrow(sub, mo("["), mn(node.index.join(",")), mo("]")) : sub;
  }
  return layered(name, node.layer, node.index);
}

// Plain-text name of a quantity, as the terminal prints it: z1, δ2, ∂C/∂W1.
export function symbolText(kind, layer) {
  const text = (notationTable[kind] && notationTable[kind].text) || kind;
  return text.replace("{l}", layer === null || layer === undefined ? "" : String(layer));
}

export function words(kind, layer) {
  const text = (notationTable[kind] && notationTable[kind].words) || "";
  return text.replace(/\{l\}/g, layer === null || layer === undefined ? "" : String(layer));
}

function paren(text) {
  return mrow(mo("("), text, mo(")"));
}

// The base of a square or transpose: parenthesised when weaker or already carrying a script or a
// fraction bar, (a^(1))², so two superscripts never read as one (as render/mathml.py writes it).
function scriptBase(part) {
  const text = wrapExpr(part, ATOM);
  return /^<(msup|msubsup|mfrac)>/.test(text) ? paren(text) : text;
}

// A layered symbol transposed: the ⊤ joins the layer's superscript, a^(1)⊤.
function transposed(node, part, numbers) {
  const [text] = part;
  if (!numbers && node.sym !== undefined && text.startsWith("<msup><mi>")
      && text.endsWith("</mo></mrow></msup>")) {
    return `${text.slice(0, -"</mrow></msup>".length)}${mi("\u22a4")}</mrow></msup>`;
  }
  return `<msup>${scriptBase(part)}${mi("\u22a4")}</msup>`;
}

function wrapExpr([text, precedence], strength, strict = false) {
  const weaker = precedence < strength || (strict && precedence === strength);
  return weaker ? paren(text) : text;
}

function constant(node) {
  if (node.text === undefined || node.text === null) return numberML(node.num);
  if (node.text === "\u00bd") return `<mfrac>${mn(1)}${mn(2)}</mfrac>`;
  if (node.text.includes("/")) {
    const [top, bottom] = node.text.split("/");
    const part = (t) => (/^[0-9.]+$/.test(t) ? mn(t) : mi(t));
    return `<mfrac>${part(top)}${part(bottom)}</mfrac>`;
  }
  return mi(node.text);
}

function functionName(fn) {
  if (fn === "\u03a3_s") return `<msub>${mo("\u2211")}${mi("s")}</msub>`;
  if (fn === "\u03a3") return mo("\u2211");
  return mi(fn.replace(/'/g, "\u2032"));
}

function renderExpr(node, numbers) {
  if (node.sym !== undefined) {
    if (!numbers) return [symbolML(node), ATOM];
    const html = valueML(node.value);
    const scalar = typeof node.value === "number" ? node.value
      : node.value.length === 1 && node.value[0].length === 1 ? node.value[0][0] : 0;
    return [html, scalar < 0 ? PRECEDENCE.neg : ATOM];
  }
  if (node.num !== undefined) return [constant(node), ATOM];
  return operator(node, numbers);
}

function operator(node, numbers) {
  const strength = PRECEDENCE[node.op];
  const args = node.args.map((arg) => renderExpr(arg, numbers));
  switch (node.op) {
    case "add": {
      const parts = [wrapExpr(args[0], strength)];
      for (const arg of args.slice(1)) parts.push(wrapExpr(arg, PRECEDENCE.neg, true));
      return [mrow(parts.join(mo("+"))), strength];
    }
    case "sub":
      return [mrow(wrapExpr(args[0], strength), mo("\u2212"), wrapExpr(args[1], strength, true)), strength];
    case "mul":
    case "hadamard":
    case "matmul": {
      let joiner = { mul: mo("\u00b7"), hadamard: mo("\u2299"), matmul: numbers ? mo("\u00b7") : mo("\u2062") }[node.op];
      if (node.op === "mul" && !numbers && node.args.every((a) => a.sym !== undefined)) joiner = mo("\u2062");
      return [mrow(args.map((a) => wrapExpr(a, strength)).join(joiner)), strength];
    }
    case "div":
      return [`<mfrac>${args[0][0]}${args[1][0]}</mfrac>`, ATOM];
    case "neg":
      return [mrow(mo("\u2212"), wrapExpr(args[0], strength + 1)), strength];
    case "square":
      return [`<msup>${scriptBase(args[0])}${mn(2)}</msup>`, strength];
    case "transpose":
      return [transposed(node.args[0], args[0], numbers), strength];
    case "call":
      if (node.fn === "pow") {  // Adam's bias correction: β1^t
        return [`<msup>${wrapExpr(args[0], ATOM)}${wrapExpr(args[1], ATOM)}</msup>`, PRECEDENCE.square];
      }
      if (node.fn === "\u221a") return [`<msqrt>${args[0][0]}</msqrt>`, ATOM];  // √
      if (node.fn === "abs") return [mrow(mo("|"), args[0][0], mo("|")), ATOM];  // |y − a|
      return [mrow(functionName(node.fn), paren(args.map((a) => a[0]).join(mo(",")))),
        PRECEDENCE.call];
    default:
      throw new Error(`unknown operator ${node.op}`);
  }
}

export function formulaML(node) {
  return renderExpr(node, false)[0];
}

export function numbersML(node) {
  return renderExpr(node, true)[0];
}

// ``alt``: the plain-text formula, read by screen readers (aria-label) instead of the MathML.
export function math(content, alt = null) {
  return alt === null ? `<math>${content}</math>` : `<math role="math" aria-label="${alt}">${content}</math>`;
}

// ---- plain text, the maths' text alternative (same precedence as above) -------------------------

function valueText(value) {
  if (typeof value === "number") return formatNumber(value);
  if (value.length === 1 && value[0].length === 1) return formatNumber(value[0][0]);
  return `[${value.map((row) => row.map((v) => formatNumber(v)).join(", ")).join("; ")}]`;
}

function symbolPlain(node) {
  const name = base(node.sym);
  const layer = node.layer === null || node.layer === undefined ? "" : String(node.layer);
  const index = node.index && node.index.length ? `[${node.index.join(",")}]` : "";
  return `${name}${layer}${index}`;
}

function textExpr(node, numbers) {
  if (node.sym !== undefined) return [numbers ? valueText(node.value) : symbolPlain(node), ATOM];
  if (node.num !== undefined) return [node.text ?? formatNumber(node.num), ATOM];
  if (node.op === undefined) return [valueText(node.value), ATOM];
  const strength = PRECEDENCE[node.op];
  const args = node.args.map((arg) => textExpr(arg, numbers));
  const wrap = ([text, p], strict = false) => (p < strength || (strict && p === strength) ? `(${text})` : text);
  switch (node.op) {
    case "add": return [args.map((a, i) => (i ? wrap(a, true) : wrap(a))).join(" + "), strength];
    case "sub": return [`${wrap(args[0])} − ${wrap(args[1], true)}`, strength];
    case "mul": case "matmul": return [args.map((a) => wrap(a)).join(" · "), strength];
    case "hadamard": return [args.map((a) => wrap(a)).join(" ⊙ "), strength];
    case "div": return [`(${args[0][0]}) / (${args[1][0]})`, strength];
    case "neg": return [`−${wrap(args[0])}`, strength];
    case "square": return [`${wrap(args[0], true)}²`, strength];
    case "transpose": return [`${wrap(args[0], true)}ᵀ`, strength];
    case "call":
      if (node.fn === "pow") return [`${wrap(args[0], true)}^${wrap(args[1], true)}`, PRECEDENCE.square];
      return [`${node.fn}(${args.map((a) => a[0]).join(", ")})`, PRECEDENCE.call];
    default: return [String(node.op), ATOM];
  }
}

// The plain-text formula of an expression tree (or, with ``numbers``, its numbers plugged in).
export function formulaText(node, numbers = false) {
  return textExpr(node, numbers)[0];
}

// ---- one equation as the page shows it -----------------------------------------------------------

const attr = (text) => text.replace(/&/g, "&amp;").replace(/"/g, "&quot;").replace(/</g, "&lt;");

// An equation of the trace as HTML: the formula, the numbers plugged in, the result. ``rows``
// < 3 leaves out the result (and its number from the formula's spoken text): practice hints.
export function equationHTML(equation, rows = 3) {
  const lhs = symbolML(equation.lhs);
  const shown = rows >= 3 ? ` = ${formulaText({ value: equation.value })}` : "";
  const said = attr(`${formulaText(equation.lhs)}${equation.rhs ? ` = ${formulaText(equation.rhs)}` : ""}${shown}`);
  const note = equation.note ? `<p class="note">${equation.note}</p>` : "";
  const value = JSON.stringify(equation.value).replace(/'/g, "&#39;");
  if (!equation.rhs) {
    return `<div class="equation given" data-testid="equation">
      <div class="result" data-testid="result" data-value='${value}'>${math(`${lhs}<mo>=</mo>${valueML(equation.value)}`, said)}</div>${note}</div>`;
  }
  const numbers = attr(`= ${formulaText(equation.rhs, true)}`);
  const result = attr(`= ${formulaText({ value: equation.value })}`);
  return `<div class="equation" data-testid="equation">
    <div class="formula" data-testid="formula">${math(`${lhs}<mo>=</mo>${formulaML(equation.rhs)}`, said)}</div>${rows >= 2 ? `
    <div class="numbers" data-testid="numbers">${math(`<mo>=</mo>${numbersML(equation.rhs)}`, numbers)}</div>` : ""}${rows >= 3 ? `
    <div class="result" data-testid="result" data-value='${value}'>${math(`<mo>=</mo>${valueML(equation.value)}`, result)}</div>${note}` : ""}</div>`;
}
