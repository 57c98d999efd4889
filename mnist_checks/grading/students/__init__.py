"""What a student's repository holds and runs: the suite's one pytest ``plugin`` (its ``session``,
``suite``, ``outcomes``, ``grade_log`` and ``summary``), the ``starter``, the ``rubric`` a run is
scored with, ``feedback``'s plain words, GitHub Classroom's report (``classroom``), and the records
the plugin hands the grader (``graded``). Imports the sandbox alone (``--isolated``)."""
