"""A local IMAP4rev1 server for the email-intake tests: a real socket on 127.0.0.1 in a
background thread, speaking the subset imaplib uses (CAPABILITY, LOGIN, SELECT, UID SEARCH,
UID FETCH with BODY.PEEK[] or RFC822, UID STORE +FLAGS, NOOP, LOGOUT), plain or over SSL.

Test code only: product code never imports it. Scripted failures: ``fail_store`` answers
every STORE with NO (the crash between registering a mail and flagging it), ``fail_login``
refuses the password.
"""

from __future__ import annotations

import re
import socketserver
import ssl
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Self


@dataclass
class StoredMail:
    uid: int
    raw: bytes
    flags: set[str] = field(default_factory=set)


class _Server(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = True


class FakeImapServer:
    def __init__(
        self,
        *,
        user: str = "ts@example.com",
        password: str = "secret",
        folder: str = "INBOX",
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        self.user, self.password, self.folder = user, password, folder
        self.ssl_context = ssl_context  # IMAP over SSL (port 993 style: TLS from the first byte)
        self.lock = threading.Lock()
        self.mails: list[StoredMail] = []
        self.next_uid = 1
        self.fail_store = False
        self.fail_login = False
        self.commands: list[str] = []
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._port = 0

    # ------------------------------------------------------------ the mailbox

    def deliver(self, raw: bytes) -> int:
        with self.lock:
            uid = self.next_uid
            self.next_uid += 1
            self.mails.append(StoredMail(uid, raw))
            return uid

    def flags(self, uid: int) -> set[str]:
        with self.lock:
            return set(next(m for m in self.mails if m.uid == uid).flags)

    # ------------------------------------------------------------ running

    @property
    def port(self) -> int:
        return self._port

    def start(self, port: int = 0) -> Self:
        fake = self

        class Handler(socketserver.StreamRequestHandler):
            def setup(self) -> None:
                self.refused = False
                if fake.ssl_context is not None:
                    wrapped = fake.ssl_context.wrap_socket(
                        self.request, server_side=True, do_handshake_on_connect=False
                    )
                    try:
                        wrapped.do_handshake()
                    except (ssl.SSLError, OSError):
                        wrapped.close()  # the client refused our certificate
                        self.refused = True
                        return
                    self.request = wrapped
                super().setup()

            def handle(self) -> None:
                if not self.refused:
                    fake._session(self)

            def finish(self) -> None:
                if self.refused:
                    return
                super().finish()
                if fake.ssl_context is not None:
                    # The server closes the socket it accepted, which wrapping detached.
                    self.request.close()

        self._server = _Server(("127.0.0.1", port), Handler)
        self._port = int(self._server.server_address[1])
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    # ------------------------------------------------------------ the protocol

    def _session(self, h: socketserver.StreamRequestHandler) -> None:
        def send(text: str | bytes) -> None:
            h.wfile.write(text if isinstance(text, bytes) else text.encode())
            h.wfile.flush()

        send("* OK [CAPABILITY IMAP4rev1] fake IMAP ready\r\n")
        logged_in = selected = False
        while True:
            line = h.rfile.readline()
            if not line:
                return
            text = line.decode("utf-8", "replace").rstrip("\r\n")
            tag, _, rest = text.partition(" ")
            command, _, args = rest.partition(" ")
            command = command.upper()
            with self.lock:
                self.commands.append(f"{command} {args}".strip() if command != "LOGIN" else "LOGIN")
            if command == "CAPABILITY":
                send(f"* CAPABILITY IMAP4rev1\r\n{tag} OK CAPABILITY completed\r\n")
            elif command == "NOOP":
                send(f"{tag} OK NOOP completed\r\n")
            elif command == "LOGOUT":
                send(f"* BYE logging out\r\n{tag} OK LOGOUT completed\r\n")
                return
            elif command == "LOGIN":
                user, password = _strings(args)[:2]
                if self.fail_login or (user, password) != (self.user, self.password):
                    send(f"{tag} NO [AUTHENTICATIONFAILED] Invalid credentials\r\n")
                else:
                    logged_in = True
                    send(f"{tag} OK LOGIN completed\r\n")
            elif not logged_in:
                send(f"{tag} BAD not logged in\r\n")
            elif command == "SELECT":
                if _strings(args)[0] != self.folder:
                    send(f"{tag} NO no such mailbox\r\n")
                    continue
                selected = True
                with self.lock:
                    count = len(self.mails)
                send(f"* {count} EXISTS\r\n* 0 RECENT\r\n* OK [UIDVALIDITY 1] UIDs valid\r\n")
                send(f"{tag} OK [READ-WRITE] SELECT completed\r\n")
            elif command == "UID" and selected:
                self._uid(tag, args, send)
            else:
                send(f"{tag} BAD unsupported command\r\n")

    def _uid(self, tag: str, args: str, send: Callable[[str | bytes], None]) -> None:
        sub, _, rest = args.partition(" ")
        sub = sub.upper()
        with self.lock:
            mails = list(self.mails)
        if sub == "SEARCH":
            wanted = rest.upper().split()
            found = [m.uid for m in mails if "UNSEEN" not in wanted or "\\Seen" not in m.flags]
            send(f"* SEARCH {' '.join(map(str, found))}".rstrip() + f"\r\n{tag} OK SEARCH completed\r\n")
        elif sub == "FETCH":
            uid_text, _, items = rest.partition(" ")
            item = "RFC822" if "RFC822" in items.upper() and "BODY" not in items.upper() else "BODY[]"
            for seq, mail in enumerate(mails, 1):
                if str(mail.uid) == uid_text:
                    send(f"* {seq} FETCH (UID {mail.uid} {item} {{{len(mail.raw)}}}\r\n".encode() + mail.raw + b")\r\n")
                    if item == "RFC822":
                        with self.lock:
                            mail.flags.add("\\Seen")
            send(f"{tag} OK FETCH completed\r\n")
        elif sub == "STORE":
            if self.fail_store:
                send(f"{tag} NO [SERVERBUG] store failed\r\n")
                return
            uid_text, _, rest2 = rest.partition(" ")
            flags = set(re.findall(r"\\\w+", rest2))
            for seq, mail in enumerate(mails, 1):
                if str(mail.uid) == uid_text:
                    with self.lock:
                        mail.flags |= flags
                    send(f"* {seq} FETCH (UID {mail.uid} FLAGS ({' '.join(sorted(mail.flags))}))\r\n")
            send(f"{tag} OK STORE completed\r\n")
        else:
            send(f"{tag} BAD unsupported UID command\r\n")


def _strings(args: str) -> list[str]:
    """IMAP atoms and quoted strings (with backslash escapes), in order."""
    out = []
    for quoted, atom in re.findall(r'"((?:[^"\\]|\\.)*)"|(\S+)', args):
        out.append(re.sub(r"\\(.)", r"\1", quoted) if quoted or not atom else atom)
    return [*out, "", ""]
