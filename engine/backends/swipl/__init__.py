"""The SWI-Prolog backend: a Program compiled to a Prolog module run in one Prolog thread."""
