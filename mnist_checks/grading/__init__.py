"""Grading students' forks without ever running their code in the grader.

- ``batch``: the batch grader (``mnist-checks grade``), fork after fork or several at once;
  ``intake``: what it reads of a fork, once (its contract file, commit, edited files);
  ``checker``: the checker process per fork and the ``Checks`` protocol a batch drives, here
  (``LocalChecks``) or on a Dask cluster's workers (``remote``); ``limits``: the limits per fork;
  ``results``: a fork's result and its files (results.json, JUnit); ``gradebook``: the course's CSV;
- ``pytest_plugin``: the checker's log of each test's outcome, question and claim, and the points
  per question at the end of every pytest run; ``feedback``: what a student reads of a failure;
- ``rubric``: points per question and tier, weights per claim, and the scores they give;
- a course's records (issue 34): ``history``, a fork's commit by a due date (``grade --due``),
  read from its ``.git`` without running git; ``roster``, which fork is whose; ``lms``, grades as
  Canvas or Moodle import them (``mnist-checks export``); ``classroom``, GitHub Classroom's
  report of a student's run, test by test;
- ``gradescope``: Gradescope's autograder zip (``mnist-checks gradescope``), and there each
  submission laid out as a fork and graded; ``gradescope_results``: its results.json in Gradescope's words;
- ``isolated``: the checker's view of a fork's contract (``pytest --isolated``), answered by
- ``server``: the student server, the one process that runs a fork's code, inside
- ``sandbox``: bubblewrap namespaces, an unprivileged uid, limits, and the isolation level reached;
  where bubblewrap cannot start, ``fork_user`` (isolation ``uid``: a uid of the fork's own) and
  ``syscall_filter`` (its seccomp filter: no network);
- ``wire`` and ``description``: the data that crosses between them (arrays, JSON, models as
  validated descriptions the checker rebuilds);
- ``budget`` and ``memory``: what a fork may cost the grader's side (replies bounded by their
  arguments, models by ``facts.MODEL_BUDGET``), and each grading in a memory cgroup of its own;
- ``contract``: the contract's functions, and loading a contract file into a process (the
  server's, or pytest's for ``--contract``);
- ``starter``: the students' starter, the reference with its solutions cut out; ``classroom``: the
  report its GitHub Classroom workflow sends, each test with the points grade gives it (issue 34);
- ``mutants`` and ``mutation_report``: the catalogue of student mistakes and correct variants,
  and ``mnist-checks mutants``'s report of what the tests catch (instructor's only: they quote
  the solutions).
"""
