"""督 uses the permissions the matters app declares (``matters.supervise`` for supervisors'
pages and actions, ``matters.view`` and ``matters.handle`` for reading a matter's supervision);
it declares none of its own. The codes are named here so the app refers to them in one place."""

SUPERVISE = "matters.supervise"
VIEW = "matters.view"

PERMISSIONS: list[tuple[str, str, tuple[str, ...]]] = []
