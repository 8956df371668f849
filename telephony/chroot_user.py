"""The chroot's ``asterisk`` user must not be a host account's uid.

Debian's asterisk package creates its system user with the next free system uid of the chroot (101 on a fresh
sid), and the host may have given that uid to someone else: on our machines 101 is ``postgres``. A chroot
isolates files, not processes, so an Asterisk running as uid 101 could signal (or, where ptrace is allowed,
trace) the host's PostgreSQL: a SIP-facing daemon must not share a uid with the database. Before a switch
starts from a chroot, the chroot's asterisk user and group are moved to an id no host account or group uses
(from 64000 up), and the chroot's files they owned follow. Nothing changes while an Asterisk runs from the
chroot (its files would change owner under it); the next start does it.
"""

from __future__ import annotations

import grp
import logging
import os
import pwd
from collections.abc import Callable
from pathlib import Path

log = logging.getLogger(__name__)

FIRST_PRIVATE_ID = 64000  # above Debian's dynamic range (1000–59999), below nobody (65534)


def host_ids() -> tuple[set[int], set[int]]:
    """The host's uids and gids, except an ``asterisk`` account's own (sharing with that one is fine)."""
    uids = {p.pw_uid for p in pwd.getpwall() if p.pw_name != "asterisk"}
    gids = {g.gr_gid for g in grp.getgrall() if g.gr_name != "asterisk"}
    return uids, gids


def runs_from(root: Path) -> bool:
    """Whether any process runs the chroot's Asterisk (the kernel shows its executable by its host path)."""
    binary = str((root / "usr/sbin/asterisk").resolve())
    for proc in Path("/proc").glob("[0-9]*"):
        try:
            if os.readlink(proc / "exe") == binary:
                return True
        except OSError:
            continue
    return False


def separate_asterisk_user(
    root: Path,
    *,
    taken: tuple[set[int], set[int]] | None = None,
    running: Callable[[Path], bool] = runs_from,
) -> int | None:
    """Move the chroot's asterisk uid and gid off the host's ids; the new id, or None when nothing moved."""
    passwd, group = root / "etc/passwd", root / "etc/group"
    if not (passwd.is_file() and group.is_file()):
        return None
    users = [line.split(":") for line in passwd.read_text(encoding="utf-8").splitlines() if line]
    groups = [line.split(":") for line in group.read_text(encoding="utf-8").splitlines() if line]
    user = next((u for u in users if u[0] == "asterisk"), None)
    team = next((g for g in groups if g[0] == "asterisk"), None)
    if user is None or team is None:
        return None
    old_uid, old_gid = int(user[2]), int(team[2])
    host_uids, host_gids = taken if taken is not None else host_ids()
    if old_uid not in host_uids and old_gid not in host_gids:
        return None
    if running(root):
        log.warning("the chroot's asterisk uid %d is a host account's; it moves at the next start", old_uid)
        return None
    used = host_uids | host_gids | {int(u[2]) for u in users} | {int(g[2]) for g in groups}
    new = next(i for i in range(FIRST_PRIVATE_ID, 65534) if i not in used)
    user[2], user[3], team[2] = str(new), str(new), str(new)
    _chown_tree(root, old_uid, old_gid, new)
    passwd.write_text("".join(":".join(u) + "\n" for u in users), encoding="utf-8")
    group.write_text("".join(":".join(g) + "\n" for g in groups), encoding="utf-8")
    log.info("the chroot's asterisk user moved from uid %d / gid %d to %d", old_uid, old_gid, new)
    return new


def _chown_tree(root: Path, old_uid: int, old_gid: int, new: int) -> None:
    for directory, subdirectories, files in os.walk(root):
        # /proc, /dev or /sys bind-mounted into the chroot belong to the host: never walk into them.
        subdirectories[:] = [d for d in subdirectories if not os.path.ismount(os.path.join(directory, d))]
        for name in (directory, *(os.path.join(directory, f) for f in (*subdirectories, *files))):
            st = os.lstat(name)
            if st.st_uid == old_uid or st.st_gid == old_gid:
                os.lchown(name, new if st.st_uid == old_uid else -1, new if st.st_gid == old_gid else -1)
