"""Data migrations over many live entries (``migrations/<id>.yaml``, DESIGN.md §9).

- :mod:`dsgit.migrate.model`: the migration as frozen values (selection, steps);
- :mod:`dsgit.migrate.parse`: a parsed YAML document to a :class:`Migration` (pure);
- :mod:`dsgit.migrate.transform`: the pure transform engine (old value -> outcome);
- :mod:`dsgit.migrate.files`: reading and validating the files (the adapter);
- :mod:`dsgit.migrate.planner`: live entries -> an ordinary ``kind: migration`` plan.
"""
