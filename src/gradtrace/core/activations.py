"""Activation functions: one entry each, holding everything about it, in the table ``ACTIVATIONS``.

Notation: z = pre-activation (batch, n), a = σ(z) (batch, n), σ'(z) = da/dz elementwise, g = dC/da.
Derivatives take both z and a = σ(z) because the natural form differs: sigmoid' = a(1 - a) and
tanh' = 1 - a² read the forward output (as scikit-learn does), relu' reads z. Each entry also holds
the in-place forms the fast training path uses, the formula the trace prints (as an expression
tree), its words, and facts (output range, kinks). Other modules look entries up, never the name.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from gradtrace.core.expr import ONE, Expr, add, call, square, sub

Array = NDArray[np.floating]
Mask = NDArray[np.bool_]
Forward = Callable[[Array], Array]
Derivative = Callable[[Array, Array], Array]
JacobianProduct = Callable[[Array, Array, Array], Array]
# z <- σ(z) in place; ``work`` (like z) and ``mask`` are scratch
InPlace = Callable[[Array, Array, Mask], None]
# g <- g ⊙ σ'(z) in place, σ' read from x = a (or z when ``derivative_reads_z``)
DerivativeInPlace = Callable[[Array, Array, Array, Mask], None]
Times = Callable[..., Expr]  # ⊙ between matrices, · between scalars

DEFAULT_LEAKY_SLOPE = 0.01
DEFAULT_ELU_ALPHA = 1.0
GELU_TANH_SCALE = math.sqrt(2.0 / math.pi)  # √(2/π)
GELU_TANH_CUBIC = 0.044715


@dataclass(frozen=True, slots=True, kw_only=True)
class Activation:
    """Everything about one activation: maths, fast in-place forms, trace formula, words, facts.

    ``derivative`` is None when σ is not elementwise (softmax), which then has ``jacobian_product``.
    ``forward_in_place``/``derivative_times`` are None where no cheap in-place form exists: the
    trainer then uses the reference path. ``make`` rebuilds the entry with other ``params``.
    """

    name: str
    forward: Forward
    derivative: Derivative | None
    jacobian_product: JacobianProduct | None = None
    params: Mapping[str, float] = field(default_factory=dict)  # name -> default value
    # name -> (lowest, highest) a spec may set, inclusive; a parameter not listed takes any number
    param_ranges: Mapping[str, tuple[float, float]] = field(default_factory=dict)
    make: Callable[..., Activation] | None = None
    # the fast training path
    forward_in_place: InPlace | None = None
    derivative_times: DerivativeInPlace | None = None
    derivative_reads_z: bool = False
    # the trace: a = formula(z); σ'(z) = derivative_formula(z, a, times)
    symbol: str
    latex: str
    words: str
    formula: Callable[[Expr], Expr]
    derivative_formula: Callable[[Expr, Expr, Times], Expr] | None
    derivative_text: str
    extra_latex: Mapping[str, str] = field(default_factory=dict)  # other functions its formulas use
    # facts
    output_range: tuple[float, float] = (-math.inf, math.inf)
    probabilities: bool = False  # outputs in (0, 1), as the probability losses need
    kinks: tuple[float, ...] = ()  # z where σ' is undefined (the one-sided value PyTorch uses is taken)

    @property
    def elementwise(self) -> bool:
        return self.derivative is not None

    @property
    def fast(self) -> bool:
        """Whether the fast training path has in-place forms for this activation on a hidden layer."""
        return self.forward_in_place is not None and self.derivative_times is not None

    def with_params(self, **params: float) -> Activation:
        """The same activation with other parameters (leaky_relu's slope, elu's alpha)."""
        if not params:
            return self
        unknown = set(params) - set(self.params)
        if unknown or self.make is None:
            raise KeyError(f"{self.name} takes no parameter {', '.join(sorted(unknown or params))}")
        return self.make(**{**self.params, **{k: float(v) for k, v in params.items()}})

    def backward(self, z: Array, a: Array, grad_a: Array) -> Array:
        """dC/dz from dC/da (the chain rule through this activation)."""
        if self.derivative is not None:
            return grad_a * self.derivative(z, a)
        assert self.jacobian_product is not None
        return self.jacobian_product(z, a, grad_a)

    def latex_names(self) -> dict[str, str]:
        """LaTeX of every function name its formulas print: σ, σ' and any helpers (Φ, φ)."""
        return {self.symbol: self.latex, f"{self.symbol}'": f"{self.latex}'", **self.extra_latex}


def _named(symbol: str) -> Callable[[Expr], Expr]:
    return lambda z: call(symbol, z)


def _prime(symbol: str) -> Callable[[Expr, Expr, Times], Expr]:
    """σ'(z) written as a function of z, for piecewise derivatives (their text says the pieces)."""
    return lambda z, a, times: call(f"{symbol}'", z)


def _operator(name: str) -> str:
    return f"\\operatorname{{{name.replace('_', chr(92) + '_')}}}"


# ---- sigmoid ------------------------------------------------------------------------------------

def sigmoid(z: Array) -> Array:
    """σ(z) = 1 / (1 + e^(-z)), evaluated without overflow for any z (also ±1000)."""
    e = np.exp(-np.abs(z))  # in (0, 1]: never overflows
    result: Array = np.where(z >= 0, 1.0 / (1.0 + e), e / (1.0 + e)).astype(z.dtype, copy=False)
    return result


def sigmoid_derivative(z: Array, a: Array) -> Array:
    """σ'(z) = a (1 - a), from the forward output a = σ(z)."""
    return a * (1.0 - a)


def sigmoid_in_place(z: Array, work: Array | None = None, mask: Mask | None = None) -> None:
    """z <- σ(z) = ½ + ½ tanh(z/2): no exp, so no overflow for any z."""
    z *= 0.5
    np.tanh(z, out=z)
    z *= 0.5
    z += 0.5


def _sigmoid_times(a: Array, grad: Array, work: Array, mask: Mask) -> None:
    np.subtract(1.0, a, out=work)
    work *= a  # a (1 - a)
    grad *= work


SIGMOID = Activation(
    name="sigmoid", forward=sigmoid, derivative=sigmoid_derivative,
    forward_in_place=sigmoid_in_place, derivative_times=_sigmoid_times,
    symbol="σ", latex="\\sigma", words="the logistic sigmoid 1/(1 + e^(−z))",
    formula=_named("σ"), derivative_formula=lambda z, a, times: times(a, sub(ONE, a)),
    derivative_text="σ'(z) = a(1 − a)", output_range=(0.0, 1.0), probabilities=True,
)


# ---- tanh ---------------------------------------------------------------------------------------

def tanh(z: Array) -> Array:
    """tanh(z)."""
    return np.tanh(z)


def tanh_derivative(z: Array, a: Array) -> Array:
    """tanh'(z) = 1 - a², from the forward output a = tanh(z)."""
    return 1.0 - a * a


def _tanh_in_place(z: Array, work: Array, mask: Mask) -> None:
    np.tanh(z, out=z)


def _tanh_times(a: Array, grad: Array, work: Array, mask: Mask) -> None:
    np.multiply(a, a, out=work)
    np.subtract(1.0, work, out=work)  # 1 - a²
    grad *= work


TANH = Activation(
    name="tanh", forward=tanh, derivative=tanh_derivative,
    forward_in_place=_tanh_in_place, derivative_times=_tanh_times,
    symbol="tanh", latex="\\tanh", words="the hyperbolic tangent",
    formula=_named("tanh"), derivative_formula=lambda z, a, times: sub(ONE, square(a)),
    derivative_text="tanh'(z) = 1 − a²", output_range=(-1.0, 1.0),
)


# ---- relu ---------------------------------------------------------------------------------------

def relu(z: Array) -> Array:
    """relu(z) = max(0, z)."""
    result: Array = np.maximum(z, 0.0)
    return result


def relu_derivative(z: Array, a: Array) -> Array:
    """relu'(z) = 1 if z > 0 else 0 (0 at the kink, as PyTorch)."""
    return (z > 0).astype(z.dtype)


def _relu_in_place(z: Array, work: Array, mask: Mask) -> None:
    np.maximum(z, 0.0, out=z)


def _relu_times(a: Array, grad: Array, work: Array, mask: Mask) -> None:
    np.greater(a, 0.0, out=mask)  # relu'(z) = [z > 0] = [a > 0]
    np.multiply(grad, mask, out=grad)


RELU = Activation(
    name="relu", forward=relu, derivative=relu_derivative,
    forward_in_place=_relu_in_place, derivative_times=_relu_times,
    symbol="relu", latex=_operator("relu"), words="the rectified linear unit max(0, z)",
    formula=_named("relu"), derivative_formula=_prime("relu"),
    derivative_text="relu'(z) = 1 if z > 0 else 0", output_range=(0.0, math.inf), kinks=(0.0,),
)


# ---- leaky relu ---------------------------------------------------------------------------------

def leaky_relu(z: Array, slope: float = DEFAULT_LEAKY_SLOPE) -> Array:
    """leaky_relu(z) = z if z > 0 else slope · z."""
    result: Array = np.where(z > 0, z, slope * z)
    return result


def leaky_relu_derivative(z: Array, a: Array, slope: float = DEFAULT_LEAKY_SLOPE) -> Array:
    """leaky_relu'(z) = 1 if z > 0 else slope."""
    result: Array = np.where(z > 0, 1.0, slope).astype(z.dtype)
    return result


def make_leaky_relu(slope: float = DEFAULT_LEAKY_SLOPE) -> Activation:
    """leaky_relu with its negative ``slope``; σ' reads a when slope > 0 (then a ≤ 0 ⇔ z ≤ 0)."""

    def in_place(z: Array, work: Array, mask: Mask) -> None:
        np.less_equal(z, 0.0, out=mask)
        np.multiply(z, slope, out=z, where=mask)

    def times(x: Array, grad: Array, work: Array, mask: Mask) -> None:
        np.less_equal(x, 0.0, out=mask)  # z ≤ 0, read from a or z
        np.multiply(grad, slope, out=grad, where=mask)

    return Activation(
        name="leaky_relu", params={"slope": slope}, make=make_leaky_relu,
        forward=lambda z: leaky_relu(z, slope),
        derivative=lambda z, a: leaky_relu_derivative(z, a, slope),
        forward_in_place=in_place, derivative_times=times, derivative_reads_z=slope <= 0,
        symbol="leaky_relu", latex=_operator("leaky_relu"),
        words=f"the leaky rectifier: z if z > 0 else {slope:g} z",
        formula=_named("leaky_relu"), derivative_formula=_prime("leaky_relu"),
        derivative_text="leaky_relu'(z) = 1 if z > 0 else slope", kinks=(0.0,),
    )


# ---- linear -------------------------------------------------------------------------------------

def linear(z: Array) -> Array:
    """linear(z) = z (identity)."""
    return z


def linear_derivative(z: Array, a: Array) -> Array:
    """linear'(z) = 1."""
    return np.ones_like(z)


def _nothing(x: Array, work: Array, mask: Mask) -> None:
    """The identity in place: nothing to do."""


def _times_one(x: Array, grad: Array, work: Array, mask: Mask) -> None:
    """g ⊙ 1 = g: nothing to do."""


LINEAR = Activation(
    name="linear", forward=linear, derivative=linear_derivative,
    forward_in_place=_nothing, derivative_times=_times_one,
    symbol="linear", latex=_operator("linear"), words="the identity (no activation)",
    formula=lambda z: z, derivative_formula=lambda z, a, times: ONE,
    derivative_text="linear'(z) = 1",
)


# ---- softmax ------------------------------------------------------------------------------------

def softmax(z: Array) -> Array:
    """softmax(z)_k = e^(z_k) / Σ_j e^(z_j) over each sample's units, shifted by max(z) for stability."""
    shifted = z - z.max(axis=-1, keepdims=True)
    e = np.exp(shifted)
    result: Array = e / e.sum(axis=-1, keepdims=True)
    return result


def softmax_backward(z: Array, a: Array, grad_a: Array) -> Array:
    """dC/dz = J^T dC/da with J = diag(a) - a aᵀ, per sample: a ⊙ (g - (g · a))."""
    result: Array = a * (grad_a - np.sum(grad_a * a, axis=-1, keepdims=True))
    return result


SOFTMAX = Activation(
    name="softmax", forward=softmax, derivative=None, jacobian_product=softmax_backward,
    symbol="softmax", latex=_operator("softmax"),
    words="the softmax e^(z_k) / Σ_j e^(z_j) over each sample's units",
    formula=_named("softmax"), derivative_formula=None,
    derivative_text="∂a_j/∂z_k = a_j ([j = k] − a_k)", output_range=(0.0, 1.0), probabilities=True,
)


# ---- elu ----------------------------------------------------------------------------------------

def elu(z: Array, alpha: float = DEFAULT_ELU_ALPHA) -> Array:
    """elu(z) = z if z > 0 else α (e^z − 1)  (torch.nn.ELU)."""
    result: Array = np.where(z > 0, z, alpha * np.expm1(np.minimum(z, 0.0)))
    return result


def elu_derivative(z: Array, a: Array, alpha: float = DEFAULT_ELU_ALPHA) -> Array:
    """elu'(z) = 1 if z > 0 else α e^z = a + α, from the forward output."""
    result: Array = np.where(z > 0, 1.0, a + alpha).astype(z.dtype)
    return result


def make_elu(alpha: float = DEFAULT_ELU_ALPHA) -> Activation:
    """elu with its ``alpha``; σ' reads a when α > 0 (then a ≤ 0 ⇔ z ≤ 0)."""

    def in_place(z: Array, work: Array, mask: Mask) -> None:
        np.minimum(z, 0.0, out=work)
        np.expm1(work, out=work)
        work *= alpha  # α (e^min(z,0) − 1)
        np.maximum(z, 0.0, out=z)
        z += work

    def times_from_a(a: Array, grad: Array, work: Array, mask: Mask) -> None:
        np.less_equal(a, 0.0, out=mask)
        np.add(a, alpha, out=work)  # a + α = α e^z where z ≤ 0
        np.multiply(grad, work, out=grad, where=mask)

    def times_from_z(z: Array, grad: Array, work: Array, mask: Mask) -> None:
        np.less_equal(z, 0.0, out=mask)
        np.minimum(z, 0.0, out=work)
        np.exp(work, out=work)
        work *= alpha
        np.multiply(grad, work, out=grad, where=mask)

    from_a = alpha > 0
    return Activation(
        name="elu", params={"alpha": alpha}, make=make_elu,
        # α ≥ 0 as in the ELU paper: a negative α makes elu non-monotone, and its range and
        # kinks below assume α ≥ 0
        param_ranges={"alpha": (0.0, math.inf)},
        forward=lambda z: elu(z, alpha), derivative=lambda z, a: elu_derivative(z, a, alpha),
        forward_in_place=in_place, derivative_times=times_from_a if from_a else times_from_z,
        derivative_reads_z=not from_a,
        symbol="elu", latex=_operator("elu"),
        words=f"the exponential linear unit: z if z > 0 else {alpha:g}(e^z − 1)",
        formula=_named("elu"), derivative_formula=_prime("elu"),
        derivative_text="elu'(z) = 1 if z > 0 else a + α", output_range=(-alpha, math.inf),
        kinks=() if alpha == 1.0 else (0.0,),
    )


# ---- gelu (exact and tanh approximation) --------------------------------------------------------

_erf = np.frompyfunc(math.erf, 1, 1)  # numpy has no erf; math.erf is exact to double precision


def normal_cdf(z: Array) -> Array:
    """Φ(z) = ½ (1 + erf(z/√2)), the standard normal distribution function."""
    result: Array = (0.5 * (1.0 + _erf(z / math.sqrt(2.0)).astype(z.dtype))).astype(z.dtype)
    return result


def normal_pdf(z: Array) -> Array:
    """φ(z) = e^(−z²/2) / √(2π)."""
    result: Array = np.exp(-0.5 * z * z) / math.sqrt(2.0 * math.pi)
    return result


def gelu(z: Array) -> Array:
    """gelu(z) = z Φ(z)  (torch.nn.GELU(approximate='none'))."""
    return z * normal_cdf(z)


def gelu_derivative(z: Array, a: Array) -> Array:
    """gelu'(z) = Φ(z) + z φ(z)."""
    return normal_cdf(z) + z * normal_pdf(z)


GELU = Activation(
    name="gelu", forward=gelu, derivative=gelu_derivative,
    symbol="gelu", latex=_operator("gelu"),
    words="the Gaussian error linear unit z Φ(z), Φ the standard normal distribution function",
    formula=_named("gelu"),
    derivative_formula=lambda z, a, times: add(call("Φ", z), times(z, call("φ", z))),
    derivative_text="gelu'(z) = Φ(z) + z φ(z), Φ and φ the standard normal CDF and density",
    extra_latex={"Φ": "\\Phi", "φ": "\\phi"}, output_range=(-0.17, math.inf),
)


def gelu_tanh(z: Array) -> Array:
    """gelu_tanh(z) = ½ z (1 + tanh(u)), u = √(2/π)(z + 0.044715 z³)  (GELU(approximate='tanh'))."""
    t = np.tanh(GELU_TANH_SCALE * (z + GELU_TANH_CUBIC * z**3))
    result: Array = 0.5 * z * (1.0 + t)
    return result


def gelu_tanh_derivative(z: Array, a: Array) -> Array:
    """gelu_tanh'(z) = ½ (1 + t) + ½ z (1 − t²) √(2/π)(1 + 3·0.044715 z²), t = tanh(u)."""
    t = np.tanh(GELU_TANH_SCALE * (z + GELU_TANH_CUBIC * z**3))
    du_dz = GELU_TANH_SCALE * (1.0 + 3.0 * GELU_TANH_CUBIC * z * z)
    result: Array = 0.5 * (1.0 + t) + 0.5 * z * (1.0 - t * t) * du_dz
    return result


GELU_TANH = Activation(
    name="gelu_tanh", forward=gelu_tanh, derivative=gelu_tanh_derivative,
    symbol="gelu_tanh", latex=_operator("gelu_tanh"),
    words="GELU's tanh approximation ½ z (1 + tanh(√(2/π)(z + 0.044715 z³)))",
    formula=_named("gelu_tanh"), derivative_formula=_prime("gelu_tanh"),
    derivative_text=("gelu_tanh'(z) = ½(1 + t) + ½ z (1 − t²) √(2/π)(1 + 0.134145 z²), "
                     "t = tanh(√(2/π)(z + 0.044715 z³))"),
    output_range=(-0.17, math.inf),
)


# ---- silu ---------------------------------------------------------------------------------------

def silu(z: Array) -> Array:
    """silu(z) = z σ(z)  (swish; torch.nn.SiLU)."""
    return z * sigmoid(z)


def silu_derivative(z: Array, a: Array) -> Array:
    """silu'(z) = σ(z) + a (1 − σ(z)), with a = z σ(z)."""
    s = sigmoid(z)
    return s + a * (1.0 - s)


def _silu_in_place(z: Array, work: Array, mask: Mask) -> None:
    np.copyto(work, z)
    sigmoid_in_place(work)
    z *= work  # z σ(z)


def _silu_times(z: Array, grad: Array, work: Array, mask: Mask) -> None:
    """g ⊙ σ(z)(1 + z − z σ(z)), the same σ'(z) written with one scratch array."""
    np.copyto(work, z)
    sigmoid_in_place(work)
    grad *= work  # g σ(z)
    work *= z
    np.subtract(z, work, out=work)  # z − z σ(z)
    work += 1.0
    grad *= work


SILU = Activation(
    name="silu", forward=silu, derivative=silu_derivative,
    forward_in_place=_silu_in_place, derivative_times=_silu_times, derivative_reads_z=True,
    symbol="silu", latex=_operator("silu"), words="the sigmoid linear unit (swish) z σ(z)",
    formula=_named("silu"),
    derivative_formula=lambda z, a, times: add(call("σ", z), times(a, sub(ONE, call("σ", z)))),
    derivative_text="silu'(z) = σ(z) + a(1 − σ(z))", output_range=(-0.28, math.inf),
)


# ---- softplus -----------------------------------------------------------------------------------

def softplus(z: Array) -> Array:
    """softplus(z) = log(1 + e^z) = max(z, 0) + log(1 + e^(−|z|)), exact for any z (β = 1)."""
    result: Array = np.maximum(z, 0.0) + np.log1p(np.exp(-np.abs(z)))
    return result


def softplus_derivative(z: Array, a: Array) -> Array:
    """softplus'(z) = σ(z)."""
    return sigmoid(z)


def _softplus_in_place(z: Array, work: Array, mask: Mask) -> None:
    np.abs(z, out=work)
    np.negative(work, out=work)
    np.exp(work, out=work)
    np.log1p(work, out=work)
    np.maximum(z, 0.0, out=z)
    z += work


def _softplus_times(a: Array, grad: Array, work: Array, mask: Mask) -> None:
    """σ(z) = 1 − e^(−a), since e^a = 1 + e^z: read from a, accurate at both ends."""
    np.negative(a, out=work)
    np.expm1(work, out=work)
    np.negative(work, out=work)
    grad *= work


SOFTPLUS = Activation(
    name="softplus", forward=softplus, derivative=softplus_derivative,
    forward_in_place=_softplus_in_place, derivative_times=_softplus_times,
    symbol="softplus", latex=_operator("softplus"), words="the smooth rectifier log(1 + e^z)",
    formula=_named("softplus"), derivative_formula=lambda z, a, times: call("σ", z),
    derivative_text="softplus'(z) = σ(z)", output_range=(0.0, math.inf),
)


# ---- hardtanh -----------------------------------------------------------------------------------

def hardtanh(z: Array) -> Array:
    """hardtanh(z) = min(1, max(−1, z))."""
    result: Array = np.clip(z, -1.0, 1.0)
    return result


def hardtanh_derivative(z: Array, a: Array) -> Array:
    """hardtanh'(z) = 1 if −1 < z < 1 else 0 (0 at the kinks, as PyTorch)."""
    return ((z > -1.0) & (z < 1.0)).astype(z.dtype)


def _hardtanh_in_place(z: Array, work: Array, mask: Mask) -> None:
    np.clip(z, -1.0, 1.0, out=z)


def _hardtanh_times(a: Array, grad: Array, work: Array, mask: Mask) -> None:
    np.abs(a, out=work)
    np.less(work, 1.0, out=mask)  # |a| < 1 ⇔ −1 < z < 1
    np.multiply(grad, mask, out=grad)


HARDTANH = Activation(
    name="hardtanh", forward=hardtanh, derivative=hardtanh_derivative,
    forward_in_place=_hardtanh_in_place, derivative_times=_hardtanh_times,
    symbol="hardtanh", latex=_operator("hardtanh"), words="tanh's piecewise-linear cousin clip(z, −1, 1)",
    formula=_named("hardtanh"), derivative_formula=_prime("hardtanh"),
    derivative_text="hardtanh'(z) = 1 if −1 < z < 1 else 0", output_range=(-1.0, 1.0),
    kinks=(-1.0, 1.0),
)


# ---- the table ----------------------------------------------------------------------------------

ACTIVATIONS: dict[str, Activation] = {
    entry.name: entry
    for entry in (SIGMOID, TANH, RELU, make_leaky_relu(), LINEAR, SOFTMAX, make_elu(), GELU,
                  GELU_TANH, SILU, SOFTPLUS, HARDTANH)
}

# Output activations whose values lie in (0, 1), as the probability losses need.
PROBABILITY_ACTIVATIONS = tuple(name for name, entry in ACTIVATIONS.items() if entry.probabilities)


def get_activation(name: str, **params: float) -> Activation:
    """The activation called ``name`` with ``params``; raises KeyError for an unknown name."""
    return ACTIVATIONS[name].with_params(**params)


def latex_names() -> dict[str, str]:
    """Every function name an activation formula prints, with its LaTeX."""
    return {key: value for entry in ACTIVATIONS.values() for key, value in entry.latex_names().items()}

