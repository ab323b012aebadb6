"""The screen's widgets, one module each."""
