"""The package's one base exception: a problem the user can fix, said once, without a traceback.

Every error of a command's input or environment (``DataError``, ``UsageError``, ``RubricError``,
``RecordError``, ``GradebookError``, ``ClusterError``, ``SandboxUnavailable``,
``EditDoesNotApply``) is an ``MnistChecksError``: its message names the cause and the remedy, and
``mnist-checks`` prints it, prefixed with ``mnist-checks:`` and followed by its ``remedy``, and
exits 2 (``cli.main``).
"""


class MnistChecksError(Exception):
    """Something the user can fix; the message says what, ``remedy`` (if any) what to do."""

    remedy: str = ""
