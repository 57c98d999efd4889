"""mnist_checks: the MNIST teaching exercise (Q1-Q5) as executable specifications.

The exercise and its figures:

- ``exercise``: the student contract, the functions a student writes (imports TensorFlow/Keras);
- ``facts``: every figure: MNIST's fingerprints, the published accuracies with their tolerances
  and reasons, epochs, batch size, parameter counts;
- ``data``: loading and checking MNIST from a file, a directory, a URL or the download cache.

Running it:

- ``plan``: a run's settings and its models in order (Q2, Q4, Q5), without TensorFlow;
- ``run``: trains the models of the plan and records everything;
- ``trainings``: each training keyed by what determines it, done once and reused;
- ``significance``: Q4's and Q5's "real improvement", McNemar's exact test on the same digits;
- ``speed``: the training fast path and what an epoch costs;
- ``compat``: the one place where Keras 2 and 3 (and the environment's facts) are read;
- ``report``: the table, the Markdown report and the spread across runs; ``plots``: the
  learning curves; ``seeds``: runs written to directories of their own, one per seed;
- ``cluster``: this machine's pool or a Dask cluster, for jobs that carry contents;
- ``cli``: the ``mnist-checks`` command (``run``, ``spread``, ``grade``, ``mutants``, ``starter``, ``gradescope``,
  ``export``), each a parser and a call in ``commands``;
- ``errors``: the base of every error a user can fix; ``compat_log``: the tox compatibility table;
- ``architecture`` and ``activations``: a model's layers and activations however they are spelled.

The bottom layer, which imports nothing of the package and which every module may use:
``errors``, ``files`` (written whole or not at all, digests), ``flags`` (environment flags),
``installed`` (where the package and the reference checkout are), ``processes`` (process groups)
and ``questions`` (Q1-Q5's one spelling).

Grading forks: ``mnist_checks.grading`` (its docstring maps it).
"""

from .data import DataError, DataUnavailable, load_digits

__version__ = "0.1.0"
__all__ = ["DataError", "DataUnavailable", "load_digits", "__version__"]
