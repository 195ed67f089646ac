"""labkit doctor: each check reports OK/FAIL truthfully, and the command's exit code follows."""

import socket
import subprocess
import sys

import pytest

from labkit.tooling import doctor


def test_python_check():
    assert doctor.check_python((3, 11, 7)).status == "OK"
    bad = doctor.check_python((3, 9, 1))
    assert bad.status == "FAIL" and "3.9.1" in bad.found and bad.fix


def test_package_checks_pass_here_and_fail_for_missing_or_old():
    for req in doctor.REQUIREMENTS:
        assert doctor.check_package(*req).status == "OK", req
    missing = doctor.check_package("no-such-dist-labkit", "no_such_mod", "1.0", "Nothing")
    assert missing.status == "FAIL" and missing.found == "not installed" and "make setup" in missing.fix
    old = doctor.check_package("tensorflow", "tensorflow", "99.0", "TensorFlow")
    assert old.status == "FAIL" and "tensorflow>=99.0" in old.fix


def test_widgets_frontend_installed():
    assert doctor.check_widgets_frontend().status == "OK"


def test_writable_check(tmp_path):
    assert doctor.check_writable([tmp_path / "runs"]).status == "OK"
    blocker = tmp_path / "file"
    blocker.write_text("x")
    bad = doctor.check_writable([blocker / "runs"])  # parent is a file: cannot be created
    assert bad.status == "FAIL" and "fix" not in bad.found and bad.fix


def test_port_check_warns_when_taken():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        taken = doctor.check_port(port)
    assert taken.status == "WARN" and f"PORT={port + 11}" in taken.fix
    assert doctor.check_port(port).status == "OK"


def test_table_lists_fix_lines():
    checks = [doctor.Check("a", "OK", "1"), doctor.Check("b", "FAIL", "2", "do this")]
    table = doctor.format_table(checks)
    assert "fix:    do this" in table and table.endswith("1 check(s) failed")


@pytest.mark.slow  # a TensorFlow subprocess: make test runs it, make check does not
def test_command_exit_code_and_table():
    proc = subprocess.run([sys.executable, "-m", "labkit", "doctor"], capture_output=True, text=True, timeout=180)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "all checks passed" in proc.stdout and "TensorFlow >= 2.16" in proc.stdout
