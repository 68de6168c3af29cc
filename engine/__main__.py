"""``maple-engine`` / ``python -m engine``: start the engine and exit with its status."""

from __future__ import annotations

import logging
import os
import sys


def main(argv: list[str] | None = None) -> int:
    from installer.engine_install.location import activate

    activate()  # the engine packages the installer verified (the bundle's), ahead of anything else
    from engine.server.startup import main as run

    code = run(argv)
    # Exit at once: worker threads may sit in native code (torch) that must not delay the exit.
    sys.stdout.flush()
    sys.stderr.flush()
    logging.shutdown()
    os._exit(code)


if __name__ == "__main__":
    sys.exit(main())
