"""`python -m lfm3d_net lift IN OUT` / `python -m lfm3d_net info` (see lfm3d_net.cli)."""
import sys

from .cli import main

if __name__ == "__main__":
    sys.exit(main())
