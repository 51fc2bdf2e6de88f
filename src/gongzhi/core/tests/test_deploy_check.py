import os
import subprocess
import sys


def test_production_settings_pass_check_deploy(tmp_path):
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "gongzhi.settings.production",
        "SECRET_KEY": "k" * 30 + "-Q9z!k2Lm#pR7vB4nW8sT1yU6cE3hJ0aZ",
        "GONGZHI_DATA_DIR": str(tmp_path),
    }
    result = subprocess.run(
        [sys.executable, "-m", "gongzhi", "check", "--deploy", "--fail-level", "WARNING"],
        env=env, capture_output=True, text=True, timeout=120, check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_production_refuses_a_missing_secret_key(tmp_path):
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "gongzhi.settings.production",
           "SECRET_KEY": "", "GONGZHI_DATA_DIR": str(tmp_path)}
    result = subprocess.run([sys.executable, "-m", "gongzhi", "check"], env=env,
                            capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr
