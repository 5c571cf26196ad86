"""The pyDatalog backend: the Engine interface in pure Python, for when SWI-Prolog is absent."""
