"""The engine's packages on first use: the right PyTorch for this machine, installed atomically.

:mod:`choice` decides the build (a pure table over the machine check's facts, sources in
:mod:`builds`); :func:`install.install_engine` plans, downloads, unpacks into a staging folder,
checks it in a child process and only then swaps it in. ``python -m installer.engine_install``
is the same from the command line. No Qt, no torch here.
"""
