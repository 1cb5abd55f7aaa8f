"""The case contract lives in `contract.case` (below model/ and harness/);
this name stays for the harness's own modules and for older scripts."""
from contract.case import *  # noqa: F401,F403
from contract.case import LIMITS, CaseError, _diff, _show, accepted_forms, canonical_outcome, decode_bytes, encode_bytes  # noqa: F401
