"""Built-in checker families. Each sub-package is one pluggy plugin registered by entry point."""
