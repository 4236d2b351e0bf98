"""The command line: thin click commands over use-case functions.

Every module in this package that defines ``COMMANDS`` (a list of click commands or groups) is
registered on the ``dsgit`` group by :mod:`dsgit.cli.main`; adding a command is adding a module.
"""
