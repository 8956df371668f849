"""The chroot's asterisk user is moved off a host account's uid (101 is postgres on our machines)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from telephony.chroot_user import FIRST_PRIVATE_ID, separate_asterisk_user

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="changing a file's owner needs root")

HOST = ({0, 101, 1000}, {0, 104, 1000})  # root, postgres (101:104), a login user


def chroot(tmp_path: Path, uid: int = 101, gid: int = 101) -> Path:
    root = tmp_path / "root"
    (root / "etc").mkdir(parents=True)
    (root / "etc/passwd").write_text(
        f"root:x:0:0:root:/root:/bin/bash\nasterisk:x:{uid}:{gid}:Asterisk PBX daemon:/var/lib/asterisk:"
        "/usr/sbin/nologin\n"
    )
    (root / "etc/group").write_text(f"root:x:0:\nasterisk:x:{gid}:\ndialout:x:20:asterisk\n")
    spool = root / "var/spool/asterisk"
    spool.mkdir(parents=True)
    (spool / "voicemail.txt").write_text("x")
    (root / "var/lib").mkdir(parents=True)
    (root / "var/lib/link").symlink_to("/etc/hostname")  # a symlink is re-owned, never its host target
    for path in (spool, spool / "voicemail.txt"):
        os.chown(path, uid, gid)
    os.lchown(root / "var/lib/link", uid, gid)
    return root


def test_a_uid_the_host_uses_moves_with_the_chroots_files(tmp_path: Path) -> None:
    root = chroot(tmp_path)
    host_target = os.stat("/etc/hostname")
    new = separate_asterisk_user(root, taken=HOST, running=lambda _: False)
    assert new == FIRST_PRIVATE_ID
    assert f"asterisk:x:{new}:{new}:" in (root / "etc/passwd").read_text()
    assert f"asterisk:x:{new}:\n" in (root / "etc/group").read_text()
    assert "root:x:0:0:" in (root / "etc/passwd").read_text()
    for path in (root / "var/spool/asterisk", root / "var/spool/asterisk/voicemail.txt"):
        assert (path.stat().st_uid, path.stat().st_gid) == (new, new)
    assert os.lstat(root / "var/lib/link").st_uid == new
    assert os.stat("/etc/hostname").st_uid == host_target.st_uid
    assert separate_asterisk_user(root, taken=HOST, running=lambda _: False) is None  # once is enough


def test_nothing_moves_when_the_ids_are_free_or_a_switch_runs_from_the_chroot(tmp_path: Path) -> None:
    free = chroot(tmp_path / "a", uid=120, gid=120)
    assert separate_asterisk_user(free, taken=HOST, running=lambda _: False) is None
    busy = chroot(tmp_path / "b")
    assert separate_asterisk_user(busy, taken=HOST, running=lambda _: True) is None
    assert "asterisk:x:101:101:" in (busy / "etc/passwd").read_text()


def test_the_new_id_avoids_every_id_already_used(tmp_path: Path) -> None:
    root = chroot(tmp_path)
    taken = (HOST[0] | {FIRST_PRIVATE_ID}, HOST[1] | {FIRST_PRIVATE_ID + 1})
    assert separate_asterisk_user(root, taken=taken, running=lambda _: False) == FIRST_PRIVATE_ID + 2
