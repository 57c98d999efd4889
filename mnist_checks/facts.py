"""Facts as data: what any correct copy of MNIST satisfies, and what the exercise publishes.

The MNIST figures are copied from the offline copy's README (``../shared/data/README.md``);
the package never reads that file at run time.
"""

from dataclasses import dataclass

N_ROWS = 70_000
N_TRAIN = 60_000
N_TEST = 10_000
N_PIXELS = 784
MAX_GREY = 255  # grey levels run 0..255
IMAGE_SHAPE = (28, 28, 1)
N_CLASSES = 10

#: SHA-256 of each array's raw C-order uint8 bytes, in Keras's ``mnist.npz`` layout.
ARRAY_SHA256 = {
    "x_train": "741c988805d008ac6e4c904b69001ba184c24b2c540a4ef403f4c71b676cf757",
    "y_train": "1feba77c54802fa5339a11837ea4b2866434b83314ec45192930f1df69120c13",
    "x_test": "6d87418db22cc8025d05968bec9bd5c3932904b23485740db143a061a2c9d161",
    "y_test": "ddeff807876a9661a1110d45c266c86239a3a1b7d37da0c3716a7a683c852ff5",
}
FIRST_TRAIN_LABELS = (5, 0, 4, 1, 9, 2, 1, 3, 1, 4)
FIRST_TEST_LABELS = (7, 2, 1, 0, 4, 1, 4, 9, 5, 9)
TRAIN_LABEL_COUNTS = (5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949)
TEST_LABEL_COUNTS = (980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009)

#: Q1: ``train_test_split(X, y, test_size=1/7, random_state=0)`` on all 70,000 rows.
SPLIT_TEST_SIZE = 1 / 7
SPLIT_RANDOM_STATE = 0
SPLIT_FIRST_TEST_LABEL = 0

#: Q2, Q3, Q5: a softmax's float32 row sums are 1 within about 1e-6 (10 terms, each with a
#: relative rounding error near 6e-8); 1e-5 leaves room for backends' fused kernels and still
#: fails any output that is not normalised (a linear output layer's rows sum to anything).
PROBABILITY_SUM_TOLERANCE = 1e-5

#: Q2 and Q5: parameter counts per layer with weights, and in all, as the exercise's summaries
#: print them (counted with ``count_params()``: Keras 3's ``summary()`` adds the optimizer's
#: variables after training).
MLP_LAYER_PARAMS = (25_120, 330)
CNN_LAYER_PARAMS = (320, 18_496, 36_928, 36_928, 650)
MLP_PARAMS = 25_450
CNN_PARAMS = 93_322

#: Q2, Q4, Q5: how the published run trains (adam at Keras's default learning rate, validated on
#: the test digits every epoch).
ADAM_LEARNING_RATE = 0.001
MLP_EPOCHS = 20
CNN_EPOCHS = 10
BATCH_SIZE = 32
#: The published run's time per training step on its machine, as its Keras progress lines print
#: them: the benchmarks (``benchmarks/``) show ours beside them.
PUBLISHED_MS_PER_STEP = {"mlp": 0.5, "cnn": 8.0}
#: Q2 and Q5: output shape of every layer, batch dimension omitted.
MLP_OUTPUT_SHAPES = ((32,), (10,))
CNN_OUTPUT_SHAPES = ((26, 26, 32), (13, 13, 32), (11, 11, 64), (5, 5, 64), (3, 3, 64), (576,), (64,), (10,))

#: Q2 and Q5 layer by layer, as the exercise builds them: each layer's class and the settings
#: that make it that layer (``architecture.architecture`` reads a model this way, whatever the
#: construction: Sequential or functional, activations as arguments or as their own layers).
_CONV = {"kernel_size": (3, 3), "strides": (1, 1), "padding": "valid", "dilation_rate": (1, 1),
         "activation": "relu", "use_bias": True}
_POOL = {"pool_size": (2, 2), "strides": (2, 2), "padding": "valid"}
MLP_ARCHITECTURE = (
    ("Dense", {"units": 32, "activation": "relu", "use_bias": True}),
    ("Dense", {"units": N_CLASSES, "activation": "softmax", "use_bias": True}),
)
CNN_ARCHITECTURE = (
    ("Conv2D", {"filters": 32, **_CONV}),
    ("MaxPooling2D", _POOL),
    ("Conv2D", {"filters": 64, **_CONV}),
    ("MaxPooling2D", _POOL),
    ("Conv2D", {"filters": 64, **_CONV}),
    ("Flatten", {}),
    ("Dense", {"units": 64, "activation": "relu", "use_bias": True}),
    ("Dense", {"units": N_CLASSES, "activation": "softmax", "use_bias": True}),
)


#: Float sums of accuracies over 10,000 digits are exact to about 1e-12: a final val_accuracy
#: exactly on the edge of its window (0.944 against 0.924 +- 0.02) is inside it.
EDGE = 1e-12


@dataclass(frozen=True)
class Published:
    """A final validation accuracy the exercise publishes, and how far a run may land from it."""

    val_accuracy: float
    tolerance: float
    reason: str
    curve: tuple[float, ...] = ()  # the published val_accuracy after each epoch

    def admits(self, found: float) -> bool:
        """Whether a run's final val_accuracy ``found`` lies within the tolerance of the figure."""
        return abs(found - self.val_accuracy) <= self.tolerance + EDGE

    @classmethod
    def from_record(cls, published: dict) -> "Published":
        """The figure as a run's ``record["published"][name]`` carries it."""
        return cls(published["val_accuracy"], published["tolerance"], published.get("reason", ""),
                   tuple(published.get("curve") or ()))


#: The published run's val_accuracy after every epoch, as its Keras 2 progress lines print them
#: (``val_acc``, on the exercise's page "[ML-10E2] Deep learning examples"). Its Q4 model is the
#: warm-started one, so both scaled MLPs of a run are drawn against that curve.
PUBLISHED_CURVES = {
    "mlp_raw": (0.7821, 0.8551, 0.8932, 0.9094, 0.9136, 0.9235, 0.9235, 0.9212, 0.9202, 0.9253,
                0.9226, 0.9163, 0.9227, 0.9241, 0.9271, 0.9241, 0.9244, 0.9245, 0.9302, 0.9240),
    "mlp_scaled": (0.9226, 0.9367, 0.9390, 0.9437, 0.9470, 0.9485, 0.9462, 0.9490, 0.9484, 0.9496,
                   0.9508, 0.9497, 0.9502, 0.9504, 0.9504, 0.9505, 0.9520, 0.9513, 0.9521, 0.9501),
    "cnn": (0.9796, 0.9854, 0.9848, 0.9885, 0.9910, 0.9872, 0.9893, 0.9911, 0.9926, 0.9919),
}

#: Final-epoch val_accuracy per model of ``mnist_checks.run``, with the tolerance a run must meet.
#: Seed spread measured here (fresh models, TF 2.21 CPU, five seeds; docs/spread.md): raw 0.9204
#: (sd 0.0053), scaled 0.9617 (sd 0.0015), warm-started 0.9547 (sd 0.0048), CNN 0.9902 (sd 0.0009).
PUBLISHED = {
    "mlp_raw": Published(
        0.924,
        0.02,
        "raw 0..255 inputs make adam's steps noisy: across seeds sd 0.005, range 0.916-0.929, mean "
        "0.004 below the published run; 0.02 is about 4 sd, and a model on scaled inputs (0.96) or "
        "one that never learns falls outside it",
        PUBLISHED_CURVES["mlp_raw"],
    ),
    "mlp_scaled": Published(
        0.950,
        0.02,
        "the published 0.950 came from a warm-started model; fresh models end 0.012 higher (0.962, "
        "sd 0.0015), so the window must hold 0.950 + 0.012 + 3 sd = 0.966; 0.02 does, and unscaled "
        "inputs (about 0.92) fall below it",
        PUBLISHED_CURVES["mlp_scaled"],
    ),
    "mlp_scaled_warm": Published(
        0.950,
        0.02,
        "the exercise's own Q4 model: sd 0.005, range 0.950-0.962 across seeds; the same window as "
        "the fresh scaled model, so both compare with the one published figure",
        PUBLISHED_CURVES["mlp_scaled"],
    ),
    "cnn": Published(
        0.992,
        0.008,
        "fresh CNNs end at 0.990 (sd 0.001, range 0.989-0.991; 0.986-0.990 in an earlier "
        "measurement); 0.008 covers that with room for other CPUs, and still excludes anything "
        "an MLP reaches (0.97 at most)",
        PUBLISHED_CURVES["cnn"],
    ),
}
#: A window is safe (never fails an honest run) when it holds the measured seed spread's mean
#: plus and minus this many sd, and every run measured.  3 sd leaves about 0.3% of a normal
#: spread outside; the spread's sd comes from five seeds (docs/spread.md), itself uncertain by
#: about a third, which is why the bound asks for 3 and not 2.
WINDOW_SAFE_SDS = 3
#: A window is telling (not vacuous) when it leaves out what a known-wrong model reaches: per
#: window, the model of the spread table whose mean must fall outside it, and why it is wrong.
KNOWN_WRONG = {
    "mlp_raw": {"mlp_scaled": "a model trained on scaled inputs answers Q2 with Q4's model"},
    "mlp_scaled": {"mlp_raw": "a Q4 model that forgot to scale is Q2's model"},
    "mlp_scaled_warm": {"mlp_raw": "a Q4 model that forgot to scale is Q2's model"},
    "cnn": {"mlp_scaled": "an MLP handed in for Q5 is not the exercise's CNN"},
}
#: Q5's "a real improvement": whatever the seed, the CNN's accuracy is above this.
CNN_FLOOR = 0.98
#: Q3: the accuracy of the predicted digits equals Keras's reported val_accuracy within one digit
#: of the 10,000: predict() and fit()'s validation pass run the same weights on the same batches,
#: but not necessarily through the same fused kernels, so one borderline digit may flip.
ONE_DIGIT = 1 / N_TEST
#: Q4's and Q5's "a real improvement": on the same 10,000 test digits the better model is right
#: where the worse one is wrong significantly more often than the reverse (McNemar's exact test,
#: one-sided; ``mnist_checks.significance``).  0.01 rather than 0.05: the claim is tested twice
#: per run, and once per seed where several are trained, and a real improvement gives p-values far below it
#: (seed 0, TF 2.21: scaled vs raw 562 against 146 disagreements, p = 1e-58; CNN vs scaled MLP
#: 333 against 49, p = 3e-53), so only a model that does not improve comes near it.
IMPROVEMENT_ALPHA = 0.01
#: The interval reported for each improvement's accuracy difference.
IMPROVEMENT_CONFIDENCE = 0.95

#: Q5's CNN per digit: every layer's outputs (the sum of ``CNN_OUTPUT_SHAPES``' sizes) and its
#: forward multiply-adds (three convolutions, two dense layers); the grader's model budget counts
#: any model the same way (``mnist_checks.grading.sandbox.budget``).
CNN_ACTIVATIONS_PER_DIGIT = 37_610
CNN_MULTIPLY_ADDS_PER_DIGIT = 2_794_240


@dataclass(frozen=True)
class ModelBudget:
    """The largest model a fork's builder may describe, as multiples of the exercise's CNN (the
    larger of its two models): the grader refuses a description above it before it allocates
    anything (issue 19)."""

    times_cnn: int
    compute_times_cnn: int
    reason: str

    @property
    def parameters(self) -> int:
        return self.times_cnn * CNN_PARAMS

    @property
    def activations(self) -> int:
        """Every layer's outputs for one training batch of ``BATCH_SIZE`` digits."""
        return self.times_cnn * CNN_ACTIVATIONS_PER_DIGIT * BATCH_SIZE

    @property
    def multiply_adds(self) -> int:
        """Forward multiply-adds per digit."""
        return self.compute_times_cnn * CNN_MULTIPLY_ADDS_PER_DIGIT


MODEL_BUDGET = ModelBudget(
    100,
    10,
    "a correct model is the exercise's (the architecture checks compare outputs), so any budget at "
    "or above 1x refuses no correct solution; 100x the CNN's parameters (9.3 million, 37 MB in "
    "float32) and activations (120 million floats at batch 32, 481 MB) keeps a model's training "
    "memory to a few GB; compute at 10x (28 million multiply-adds per digit) keeps a step of the "
    "worst model at 4-21x the CNN's (measured on 2 cores: 65 ms for the widest MLP, 354 ms for the "
    "widest convolution, against 17 ms), and --fork-timeout bounds the slow tier's hours",
)
