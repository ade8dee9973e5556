"""Run ``python -m paperlens``."""
from paperlens.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
