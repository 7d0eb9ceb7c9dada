"""`python -m generator` runs the phaseup CLI."""

from generator.cli import main

main()
