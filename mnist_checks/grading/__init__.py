"""Grading students' forks without ever running their code in the grader, in four parts by audience.

- ``sandbox``: where a fork's code runs, and nowhere else: the student server, its isolation
  levels (``levels``: bubblewrap, a uid of its own, a plain process), the wire and the model
  descriptions that cross it, and what a fork may cost (``budget``, ``memory``);
- ``students``: what a student's repository holds and runs: the suite's pytest ``plugin`` and
  its ``session`` settings, the ``starter``, the ``rubric`` a run is scored with, ``feedback``'s
  plain words and GitHub Classroom's report (``classroom``);
- ``course``: what an instructor grades a course with: the ``batch`` and its ``Grading``
  settings, the ``checker`` per fork, ``results``, the ``gradebook``, feedback pages, the class
  report, due dates (``history``), the ``roster``, the LMS (``lms``) and Gradescope;
- ``catalogue``: the instructor's mutants and correct variants and the mutation report. It
  quotes the solutions, so no student's starter and no fork's sandbox ever holds it: the one rule
  is ``solutions.instructors_only``, which both apply.

Below them, ``contract`` (the contract's functions, and loading a contract file), ``solutions``
(the reference's solutions: cut out of the starter, kept out of sandboxes) and ``limits`` (what
a fork may use) are shared by all four. Each part imports only the parts listed before it.
"""
