"""评 uses the permission the matters app declares: ``matters.evaluate`` (代评与回访) for staff
who enter other evaluators' ratings and record return visits. The reporter's own rating needs no
account: the signed link is the permission. No permissions of its own are declared."""

EVALUATE = "matters.evaluate"

PERMISSIONS: list[tuple[str, str, tuple[str, ...]]] = []
