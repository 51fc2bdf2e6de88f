import pytest


@pytest.fixture(autouse=True)
def _export_root(settings, tmp_path):
    settings.REPORTS_EXPORT_ROOT = str(tmp_path / "exports")
    return tmp_path / "exports"
