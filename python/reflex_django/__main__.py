"""`python -m reflex_django …` runs the `reflex-django` binary from the same wheel."""

import sys

from reflex_django.cli import forward

if __name__ == "__main__":
    forward(sys.argv[1:])
