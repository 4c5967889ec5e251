"""A profile against the catalogue: decisions, the answer's JSON, and the policy cases."""
