"""The case contract (../shared/case-format.md and docs/case-format-extensions.md):
cases and outcomes as data, their JSON codec, their validation and the one
outcome comparison.  It sits below everything else: `model/`, `generators/`
and `harness/` import it; it imports nothing of theirs (tests/test_layers.py).
`caselimits.h` holds the limits both the validator and the C executor enforce."""
