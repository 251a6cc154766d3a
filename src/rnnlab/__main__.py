"""``python -m rnnlab`` is the ``rnnlab`` command (torchrun starts it this way)."""

from rnnlab.cli import main

if __name__ == "__main__":
    main()
