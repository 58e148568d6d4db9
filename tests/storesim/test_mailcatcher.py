"""The demo's SMTP catcher saves every message whole, as one .eml file inside its folder."""

from __future__ import annotations

import email
import smtplib
from email.message import EmailMessage
from email.policy import default as default_policy
from pathlib import Path

from aiosmtpd.controller import Controller

from storesim.mailcatcher import FolderHandler
from tests.support.smtp import free_port


def test_each_message_becomes_one_eml_file_named_safely_inside_the_folder(tmp_path: Path) -> None:
    folder = tmp_path / "mail"
    folder.mkdir()
    port = free_port()
    controller = Controller(FolderHandler(folder), hostname="127.0.0.1", port=port)
    controller.start()
    try:
        with smtplib.SMTP("127.0.0.1", port, timeout=10) as client:
            for rcpt in ("ann@example.com", "../../evil/x@example.com"):
                message = EmailMessage()
                message["From"], message["To"], message["Subject"] = "a@b.test", rcpt, "Drop"
                message.set_content("Portal Circuit is 5.00 USD")
                client.send_message(message)
    finally:
        controller.stop()
    files = sorted(tmp_path.rglob("*"))
    assert [f.parent for f in files if f.is_file()] == [folder, folder]
    names = sorted(f.name for f in folder.iterdir())
    assert names[0].endswith("-0001-ann@example.com.eml")
    assert names[1].endswith("-0002-.._.._evil_x@example.com.eml")
    saved = email.message_from_bytes((folder / names[0]).read_bytes(), policy=default_policy)
    assert saved["Subject"] == "Drop" and "Portal Circuit" in saved.get_content()
