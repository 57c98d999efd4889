"""What an instructor grades a course with: ``batch.grade_forks`` with a ``grading.Grading``, the
checks (``checker``, ``checks``, ``pools``, ``remote``), a fork's intake and history, its
``results``, the ``gradebook``, the pages, the roster, the LMS and Gradescope. Imports the sandbox
and the students' part, never the catalogue."""
