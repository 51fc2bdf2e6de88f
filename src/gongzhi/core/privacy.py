"""De-identification for display (GB/T 35273): 138****1234, ID first 6 and last 4."""


def mask_phone(phone: str | None) -> str:
    if not phone:
        return ""
    digits = phone.strip()
    if len(digits) >= 11:
        return f"{digits[:3]}****{digits[-4:]}"
    if len(digits) > 4:
        return "*" * (len(digits) - 4) + digits[-4:]
    return "*" * len(digits)


def mask_id_number(id_number: str | None) -> str:
    if not id_number:
        return ""
    value = id_number.strip()
    if len(value) <= 10:
        return "*" * len(value)
    return f"{value[:6]}{'*' * (len(value) - 10)}{value[-4:]}"


def mask_name(name: str | None) -> str:
    """张三 → 张*, 欧阳娜娜 → 欧***: for public boards."""
    if not name:
        return ""
    return name[0] + "*" * max(1, len(name) - 1)
