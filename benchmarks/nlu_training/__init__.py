"""Training the router's intent model (not part of the runtime package or the wheel):
`training.py` (data, labels, cross-validation, the artefact), `sentences.py` and
`sentences/*.toml` (our templated requests, as data)."""
