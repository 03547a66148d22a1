"""The ``pyworkflow`` command: YAML config, workers, and processes from the shell.

Kept apart from the library so that ``pyworkflow`` never imports click; this
package imports the library, never the other way round.
"""
