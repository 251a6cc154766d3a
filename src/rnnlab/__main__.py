"""``python -m rnnlab`` is the ``rnnlab`` command, so a launcher that starts Python modules runs
it too: ``torchrun --nproc-per-node 2 -m rnnlab train classify …`` (each rank joins the process
group first, see :func:`rnnlab.cli.main`). ``python -m rnnlab.cli`` stays the same command."""

from rnnlab.cli import main

if __name__ == "__main__":
    main()
