"""`python -m golive` runs the CLI."""
from golive.cli import main

main()
