"""The key that signs portal sessions: from the settings, or generated once and kept.

A generated key lives in ``data_dir/session-secret`` with mode 600, so that
sessions survive a restart and nobody else on the machine can forge one.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from fuseshare.config import Settings

KEY_FILE = "session-secret"


def session_secret(settings: Settings) -> str:
    if settings.secret_key:
        return settings.secret_key
    path = Path(settings.data_dir).expanduser() / KEY_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text(encoding="utf-8").strip()
    key = secrets.token_urlsafe(48)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(key + "\n")
    return key
