"""The language: .dl text to a syntax tree and back (grammar, parser, loader, printer)."""
