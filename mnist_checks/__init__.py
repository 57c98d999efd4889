"""mnist_checks: the MNIST teaching exercise (Q1-Q5) as executable specifications.

``mnist_checks.exercise`` holds the student contract (it imports TensorFlow/Keras);
``mnist_checks.data`` loads and checks MNIST; ``mnist_checks.facts`` holds the figures.
"""

from .data import DataError, DataUnavailable, load_digits

__version__ = "0.1.0"
__all__ = ["DataError", "DataUnavailable", "load_digits", "__version__"]
