"""JSON Schemas for persona and dialogue-test files, generated from the loaders' own field
tables by `companion personas schema --write` (see companion/schema_gen.py); shipped so an
editor can validate files as they are typed."""
