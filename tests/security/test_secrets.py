"""No secret in the repository, and none in the messages the apps send each other.

The scan looks for what is a secret beyond doubt (private keys, cloud and service tokens,
a literal Django secret key, passwords written into the code or into URLs), so that a
finding is worth stopping for. Each documented exception is listed with its reason.
"""

import re
import subprocess
import typing
from pathlib import Path

import pydantic
import pytest
from django.conf import settings

from messaging.contracts import all_message_classes

REPOSITORY = Path(settings.BASE_DIR)

EVERYWHERE = {
    "a private key": r"-----BEGIN [A-Z ]*PRIVATE KEY( BLOCK)?-----",
    "an AWS access key id": r"\b(AKIA|ASIA)[0-9A-Z]{16}\b",
    "a GitHub token": r"\bgh[pousr]_[A-Za-z0-9]{36,}",
    "a Slack token": r"\bxox[abprs]-[A-Za-z0-9-]{10,}",
    "a Stripe live key": r"\b[rs]k_live_[A-Za-z0-9]{16,}",
    "a Django secret key in the code": r"\bSECRET_KEY\s*=\s*[rbuf]?['\"]",
    "a password in a URL": r"\b[a-z][a-z0-9+.-]*://[^/\s:@'\"]+:[^/\s@'\"]+@",
}
# In Python outside the tests, whose passwords belong to throwaway accounts in a test database.
IN_PYTHON = {
    "a password in the code": r"(?i)['\"]?\bpassword['\"]?\s*[:=]\s*['\"][^'\"]+['\"]",
    "a password set in the code": r"\bset_password\(\s*['\"]",
}
DOCUMENTED = {
    # The demo's staff account admin/admin, refused outside demo mode (README, "Two commands").
    ("shop/management/commands/ensure_demo_admin.py", "a password set in the code"),
    # The compose network's own PostgreSQL, which no other host can reach (README, compose).
    ("docker-compose.yml", "a password in a URL"),
}


def findings(path: str, text: str) -> list[str]:
    """`path:line: what` for each line of `text` that looks like a secret."""
    rules = dict(EVERYWHERE)
    if path.endswith(".py") and not path.startswith("tests/"):
        rules |= IN_PYTHON
    found = []
    for number, line in enumerate(text.splitlines(), start=1):
        for what, pattern in rules.items():
            if (path, what) not in DOCUMENTED and re.search(pattern, line):
                found.append(f"{path}:{number}: {what}")
    return found


def tracked_files() -> list[str]:
    listed = subprocess.run(
        ["git", "ls-files", "-z"], cwd=REPOSITORY, capture_output=True, text=True, check=False
    )
    if listed.returncode != 0:
        pytest.skip(f"not a git checkout, nothing to scan: {listed.stderr.strip()}")
    return [name for name in listed.stdout.split("\0") if name]


def test_no_tracked_file_holds_a_secret():
    found = []
    for name in tracked_files():
        try:
            text = (REPOSITORY / name).read_text(encoding="utf-8")
        except UnicodeDecodeError:  # a binary file: none is tracked today
            continue
        except FileNotFoundError:  # deleted in the working tree, not yet in the index
            continue
        found += findings(name, text)

    assert found == []


# Assembled from pieces, so that this file holds none of them whole.
@pytest.mark.parametrize(
    ("path", "line"),
    [
        ("deploy/key.pem", "-----BEGIN " + "RSA PRIVATE KEY-----"),
        ("deploy/key", "-----BEGIN " + "OPENSSH PRIVATE KEY-----"),
        ("ci.yml", "aws_access_key_id: AKIA" + "IOSFODNN7EXAMPLE"),
        ("notes.md", "token gh" + "p_" + "a" * 36),
        ("config/settings.py", "SECRET_" + 'KEY = "django-insecure-abc"'),
        ("compose.yml", "DATABASE_URL: postgresql://" + "app:hunter2@db/app"),
        ("config/settings.py", 'DATABASES = {"default": {"PASS' + 'WORD": "hunter2"}}'),
        ("shop/services.py", "User.objects.create_user('bob', pass" + "word='hunter2')"),
        ("shop/management/commands/seed.py", "user.set_pass" + 'word("hunter2")'),
    ],
)
def test_the_scan_finds_what_it_looks_for(path, line):
    assert findings(path, line)


@pytest.mark.parametrize(
    ("path", "line"),
    [
        ("config/settings.py", "SECRET_KEY = secret_key()"),
        ("config/settings.py", 'return os.environ["DJANGO_SECRET_KEY"]'),
        ("shop/api/tokens.py", 'password = Text(label="Password", style={"input_type": "pass'),
        ("shop/forms.py", "password1 = forms.CharField(widget=forms.PasswordInput)"),
        ("tests/api/conftest.py", 'create_user(username="ada", password="analytical-engine")'),
        ("README.md", "curl -d username=admin -d password=admin http://127.0.0.1:8000/"),
        ("docker-compose.yml", "KAFKA_CONTROLLER_QUORUM_VOTERS: 1@kafka:9093"),
    ],
)
def test_the_scan_leaves_ordinary_code_alone(path, line):
    assert findings(path, line) == []


def test_documented_exceptions_are_still_needed():
    # An exception whose file no longer matches would let a later secret through unseen.
    for path, what in DOCUMENTED:
        rules = EVERYWHERE | IN_PYTHON
        text = (REPOSITORY / path).read_text(encoding="utf-8")
        assert re.search(rules[what], text), (path, what)


SECRET_NAME = re.compile(
    r"(^|_)(password|passwd|pwd|token|secret|card|cvv|cvc|iban|pin|api_key|private_key)(_|$)"
)


def field_paths(model: type[pydantic.BaseModel], prefix: str) -> list[str]:
    """Every field of a message, nested ones included: `PlaceOrder.customer.email`."""
    paths = []
    for name, field in model.model_fields.items():
        paths.append(f"{prefix}.{name}")
        for inner in nested_models(field.annotation):
            paths += field_paths(inner, f"{prefix}.{name}")
    return paths


def nested_models(annotation) -> list[type[pydantic.BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, pydantic.BaseModel):
        return [annotation]
    return [m for arg in typing.get_args(annotation) for m in nested_models(arg)]


def test_no_message_carries_a_field_named_like_a_secret():
    fields = [p for cls in all_message_classes() for p in field_paths(cls, cls.__name__)]

    assert "PlaceOrder.customer.email" in fields  # nested contracts are walked too
    assert [p for p in fields if SECRET_NAME.search(p.rsplit(".", 1)[1])] == []
