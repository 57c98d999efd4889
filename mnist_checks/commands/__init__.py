"""The ``mnist-checks`` commands, each a pair: ``add_<command>_parser(commands)`` adds its parser
with the library's defaults, ``<command>_command(args)`` calls one library function and turns its
result into lines and an exit status (``mnist_checks.cli.main`` dispatches to it).

- ``runs``: ``run`` (``seeds.run_seed``; ``--seeds``: ``seeds.run_seeds``) and ``spread``
  (``seeds.spread_files``);
- ``grades``: ``grade`` (``grade_forks``), ``mutants`` (``mutation_report.grade_catalogue`` and
  its ``verdict``) and ``starter`` (``write_starter``);
- ``progress``: ``grade``'s progress, a line per finished fork and on a terminal a live line (tqdm);
- ``common``: the usage error, the argparse types, ``--verbose``, the reference checkout.
"""
