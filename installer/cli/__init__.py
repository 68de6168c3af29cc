"""The command-line tools: maple-models and maple-doctor, their commands, tables and progress bars."""
