"""The command line: thin click commands over use-case functions.

Each command lives in a module here that lists it in ``COMMANDS``; ``dsgit.cli.main`` maps
command names to modules (``COMMAND_MODULES``) and imports a module only when its command runs.
"""
