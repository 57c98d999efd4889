"""The instructor's catalogue: realistic mistakes (``mutants``), correct variants (``variants``,
``published_notebook``) and what the canonical tests catch of them (``mutation_report``). It
quotes the solutions: no starter and no sandbox holds this folder (``solutions.instructors_only``)."""
