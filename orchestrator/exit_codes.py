"""The command line's exit codes, one definition for the CLI and the sweep it runs."""

EXIT_OK = 0  # every planned episode recorded, whatever its status; or a command that succeeded
EXIT_INTERNAL = 1  # a bug or an environment failure (with its traceback), or episodes left unrecorded
EXIT_USAGE = 2  # bad input: one ``error:`` line naming the file, line and field
EXIT_BUDGET = 3  # the budget was reached before the plan was done: resume with a larger budget
EXIT_INTERRUPTED = 130  # Ctrl-C or SIGTERM: the run is flushed, and the same command resumes it
EXIT_FAILED_EPISODES = 4  # (opt-in, ``fail_on``) more of the planned episodes failed than the config allows
