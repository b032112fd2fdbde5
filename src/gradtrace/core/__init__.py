"""The numpy-only engine: activations, losses, layers, backprop, optimisers, gradient checks."""

from gradtrace.core.activations import ACTIVATIONS, Activation, get_activation
from gradtrace.core.backprop import StepResult, train_step
from gradtrace.core.gradcheck import GradientComparison, check_gradients
from gradtrace.core.init import INITIALISERS, init_weights
from gradtrace.core.losses import LOSSES, Loss, get_loss
from gradtrace.core.network import MLP, Forward, Gradients, Layer, backward, forward
from gradtrace.core.optimizers import SGD, Optimizer

__all__ = [
    "ACTIVATIONS", "INITIALISERS", "LOSSES", "MLP", "SGD", "Activation", "Forward",
    "GradientComparison", "Gradients", "Layer", "Loss", "Optimizer", "StepResult", "backward",
    "check_gradients", "forward", "get_activation", "get_loss", "init_weights", "train_step",
]
