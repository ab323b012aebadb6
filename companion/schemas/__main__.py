"""python -m companion.schemas: regenerate the shipped JSON Schemas from the loaders."""

from . import write_all

for path in write_all():
    print(f"wrote {path}")
