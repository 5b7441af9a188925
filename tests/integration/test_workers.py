"""Any worker on any host that reaches the same Redis serves the same signed-in user."""

import asyncio
import contextlib
import os
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import pytest

from devstack import AppServer
from devstack.ports import LOOPBACK
from tests.auth_actions import SESSION_COOKIE, AuthActions
from tests.home_page import shows_signed_out, signed_in_user

# The st column of /proc/net/tcp.
TCP_ESTABLISHED = "01"
TCP_LISTEN = "0A"


async def test_sign_in_on_one_host_is_signed_in_on_the_other(
    auth: AuthActions, app_server: AppServer, second_app_server: AppServer
) -> None:
    other = AuthActions(second_app_server.url, auth.http)  # same browser, other host
    await auth.sign_in("olivia")
    home = await other.get("/")
    assert signed_in_user(home.status, home.text) == "Olivia"
    profile = await other.get("/profile")
    assert profile.status == 200 and "Profile of Olivia" in profile.text


async def test_sign_out_on_one_host_signs_out_on_both(
    auth: AuthActions, app_server: AppServer, second_app_server: AppServer
) -> None:
    other = AuthActions(second_app_server.url, auth.http)
    await auth.sign_in("peggy")
    home = await other.get("/")
    assert signed_in_user(home.status, home.text) == "Peggy"
    await auth.sign_out()
    for host in (auth, other):
        home = await host.get("/")
        assert shows_signed_out(home.status, home.text) and "Peggy" not in home.text


async def test_fifty_requests_across_two_workers_are_all_signed_in(
    auth: AuthActions, app_server: AppServer
) -> None:
    await auth.sign_in("quentin")
    session_id = auth.session_id()
    assert session_id and app_server.pid is not None

    # The server is ready once one worker answers; wait until both listen.
    for _ in range(200):
        listeners = listening_processes(app_server.port, app_server.pid)
        if len(listeners) == 2:
            break
        await asyncio.sleep(0.05)
    else:
        pytest.fail(f"two workers never listened on the port: {listeners}")

    # Fifty fresh connections, all kept open, so the kernel spreads them over both workers
    # and /proc can tell which process holds the server side of each.
    answers = await asyncio.gather(
        *(get_on_new_connection(app_server.port, "/", session_id) for _ in range(50))
    )
    try:
        holders = holders_of_connections(app_server.port, app_server.pid)
        served_by = [holders.get(answer.client_port) for answer in answers]
    finally:
        for answer in answers:
            answer.writer.close()
        await asyncio.gather(
            *(answer.writer.wait_closed() for answer in answers), return_exceptions=True
        )

    assert [signed_in_user(answer.status, answer.text) for answer in answers] == ["Quentin"] * 50
    assert None not in served_by, "each connection is held by a process of the app server"
    assert set(served_by) == listeners, f"both workers served: {Counter(served_by)}"
    assert auth.session_id() == session_id, "reading the session never replaces it"


@dataclass
class Answer:
    """A response read on its own connection, which stays open."""

    status: int
    text: str
    client_port: int
    writer: asyncio.StreamWriter


async def get_on_new_connection(port: int, path: str, session_id: str) -> Answer:
    """GET `path` with the session cookie on a new keep-alive connection to 127.0.0.1:`port`."""
    reader, writer = await asyncio.open_connection(LOOPBACK, port)
    client_port = writer.get_extra_info("sockname")[1]
    request = (
        f"GET {path} HTTP/1.1\r\nHost: {LOOPBACK}:{port}\r\n"
        f"Cookie: {SESSION_COOKIE}={session_id}\r\n\r\n"
    )
    writer.write(request.encode())
    await writer.drain()
    head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1")
    status_line, *header_lines = head.split("\r\n")
    headers = {
        name.strip().lower(): value.strip()
        for name, _, value in (line.partition(":") for line in header_lines if line)
    }
    body = await reader.readexactly(int(headers["content-length"]))
    return Answer(int(status_line.split()[1]), body.decode(), client_port, writer)


def holders_of_connections(port: int, process_group: int) -> dict[int, int]:
    """For each established connection to `port`: its client port -> the PID holding it."""
    connections = sockets_on(port, TCP_ESTABLISHED)
    holders = holders_of_sockets(set(connections), process_group)
    return {connections[inode]: pid for inode, pid in holders.items()}


def listening_processes(port: int, process_group: int) -> set[int]:
    """The PIDs that hold a socket listening on `port`."""
    return set(holders_of_sockets(set(sockets_on(port, TCP_LISTEN)), process_group).values())


def sockets_on(port: int, state: str) -> dict[int, int]:
    """The IPv4 TCP sockets on local `port` in `state`: their inode -> their remote port."""
    sockets = {}
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        local, remote, inode = fields[1], fields[2], int(fields[9])
        if fields[3] == state and int(local.rsplit(":", 1)[1], 16) == port:
            sockets[inode] = int(remote.rsplit(":", 1)[1], 16)
    return sockets


def holders_of_sockets(inodes: set[int], process_group: int) -> dict[int, int]:
    """Which process of `process_group` (the app server and its workers) holds each inode."""
    return {
        inode: pid
        for pid in processes_of_group(process_group)
        for inode in socket_inodes(pid) & inodes
    }


def processes_of_group(pgid: int) -> list[int]:
    """The live processes whose process group is `pgid`."""
    pids = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, IndexError):
            fields = stat.read_text().rsplit(")", 1)[1].split()
            if int(fields[2]) == pgid and fields[0] not in {"Z", "X"}:
                pids.append(int(stat.parent.name))
    return pids


def socket_inodes(pid: int) -> set[int]:
    """The inodes of the sockets process `pid` has open."""
    inodes = set()
    with contextlib.suppress(OSError):
        for fd in Path(f"/proc/{pid}/fd").iterdir():
            with contextlib.suppress(OSError):
                target = os.readlink(fd)
                if target.startswith("socket:["):
                    inodes.add(int(target[len("socket:[") : -1]))
    return inodes
