"""The engine as a child process of the launcher: command line, start, output, state, process tree, diagnosis."""
