"""What a run of the exercise trains: its settings, and its models in order (Q2, Q4, Q5).

``PLAN`` is the one list of the models: ``mnist_checks.run`` trains them in this order, the
command line announces them from it, and the slow claims are parametrized from it.  Importing
this module imports no TensorFlow (the command line reads its defaults from here).
"""

from __future__ import annotations

from dataclasses import dataclass

from . import facts


@dataclass(frozen=True)
class Settings:
    """How the exercise is run; the defaults are the published settings (``mnist_checks.facts``)."""

    seed: int = 0
    mlp_epochs: int = facts.MLP_EPOCHS
    cnn_epochs: int = facts.CNN_EPOCHS
    batch_size: int = facts.BATCH_SIZE
    warm: bool = False  # also train Q4's warm-started MLP, as the exercise builds it
    plain_fit: bool = False  # the exercise's plain fit() instead of the fast path (mnist_checks.speed)


@dataclass(frozen=True)
class Model:
    """One model of a run: its name in records, its question, what it is, whether it is an MLP or
    the CNN (its epochs), and which inputs it trains on (``raw``, ``scaled`` or ``images``)."""

    name: str
    question: str
    description: str
    kind: str
    inputs: str
    warm: bool = False  # trained only with ``Settings.warm``

    def epochs(self, settings: Settings) -> int:
        """The epochs this model trains for under ``settings``."""
        return settings.mlp_epochs if self.kind == "mlp" else settings.cnn_epochs

    @property
    def published_epochs(self) -> int:
        return facts.MLP_EPOCHS if self.kind == "mlp" else facts.CNN_EPOCHS

    @property
    def published_parameters(self) -> int:
        return facts.MLP_PARAMS if self.kind == "mlp" else facts.CNN_PARAMS


#: The models of a run, in training order.
PLAN = (
    Model("mlp_raw", "q2", "MLP on raw pixels 0..255", "mlp", "raw"),
    Model("mlp_scaled", "q4", "MLP on pixels scaled to [0, 1], fresh weights", "mlp", "scaled"),
    Model("mlp_scaled_warm", "q4", "MLP on scaled pixels built from the raw MLP's layers (warm-started), as the "
          "exercise does", "mlp", "scaled", warm=True),
    Model("cnn", "q5", "CNN on scaled (28, 28, 1) images", "cnn", "images"),
)
MODELS = {model.name: model for model in PLAN}


def planned(settings: Settings) -> list[Model]:
    """The models a run with ``settings`` trains, in order."""
    return [model for model in PLAN if settings.warm or not model.warm]


@dataclass(frozen=True)
class Improvement:
    """A claim that one model of the plan is a real improvement over another (Q4, Q5)."""

    better: str
    worse: str
    question: str
    what: str


#: The exercise's improvement claims, tested on the same test digits (``mnist_checks.significance``).
IMPROVEMENTS = (
    Improvement("mlp_scaled", "mlp_raw", "q4", "scaling the pixels improves the same MLP"),
    Improvement("cnn", "mlp_scaled", "q5", "the CNN improves on the scaled MLP"),
)
