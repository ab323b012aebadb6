"""The Textual screen (the desktop demo): `companion` with no arguments opens it."""
