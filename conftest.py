"""The spec suite's setup: its options, hooks and fixtures (the contract under test, the sample,
the full data, the exercise's run) are all in the one plugin named here (issue 35)."""

pytest_plugins = ("mnist_checks.grading.students.plugin",)
