"""Revisions of one live entry: what changed between consecutive ones (``dsgit history --diff``)."""
