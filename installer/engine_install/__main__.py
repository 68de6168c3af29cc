"""``python -m installer.engine_install``: choose and install the engine's packages from a terminal.

Exit status: 0 installed (or nothing to do), 1 failed (the previous engine unchanged),
2 usage error, 3 this machine needs a decision first (a GPU would be left unused: pass --yes).
"""

from __future__ import annotations

import sys

from installer.engine_install.cli import main

if __name__ == "__main__":
    sys.exit(main())
