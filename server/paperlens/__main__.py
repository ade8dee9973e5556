"""Run ``python -m paperlens``."""
from paperlens.cli import main

raise SystemExit(main())
