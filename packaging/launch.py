"""Entry script for the PyInstaller bundle."""

import sys

from app.launcher import main

sys.exit(main())
