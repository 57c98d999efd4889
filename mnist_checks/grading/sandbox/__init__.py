"""Where a fork's code runs, and nowhere else: the student server (``server``), the checker's proxy
of it (``isolated``), the isolation levels it is sealed off by (``levels``, ``fork_user``,
``syscall_filter``), the data that crosses (``wire``, ``description``, ``allowlists``) and what a
fork may cost (``budget``, ``memory``). Imports no other part of grading."""
