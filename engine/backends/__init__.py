"""Engine backends: each one compiles a Program and implements the Engine interface."""
