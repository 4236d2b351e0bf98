"""Canonical, comment-keeping YAML for files dsgit writes (entry files, ordered scope files).

``document`` reads and writes ruamel round-trip documents, ``merge`` updates one in place with
minimal edits, ``atomic`` writes files whole or not at all, ``equality`` compares JSON values
the way JSON does (``1`` is not ``1.0`` is not ``true``).
"""
