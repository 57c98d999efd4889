"""Grading students' forks without ever running their code in the grader.

- ``starter``: the students' starter, the reference with its solutions cut out;
- ``rubric``: points per question and tier, and the scores they give;
- ``runner``: the batch grader (``mnist-checks grade``): a checker process per fork, outputs, gradebook;
- ``pytest_plugin``: the checker's log of each test's outcome, question and claim;
- ``isolated``: the checker's view of a fork's contract (``pytest --isolated``), answered by
- ``server``: the student server, the one process that runs a fork's code, inside
- ``sandbox``: bubblewrap namespaces, an unprivileged uid, limits, and the isolation level reached;
- ``wire`` and ``description``: the data that crosses between them (arrays, JSON, models as
  validated descriptions the checker rebuilds);
- ``contract``: loading a contract file into a process (the server's, or pytest's for ``--impl``).
"""
