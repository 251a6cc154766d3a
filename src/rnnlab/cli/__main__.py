"""``python -m rnnlab.cli`` is the ``rnnlab`` command (torchrun starts each rank this way)."""

from rnnlab.cli import main

if __name__ == "__main__":
    main()
