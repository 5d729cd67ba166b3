"""Downloads, recorded and never fetched: C{wget}, C{tftp}, C{ftpget} and
C{curl} (a program of its own, not an applet).  Each tells the shell what it
was asked to fetch, then fails the way a firewalled device does: a name does
not resolve, an address times out."""

from __future__ import annotations

import ipaddress
import posixpath
import urllib.parse


from bbs.shell.applets.program import Io, Shell
from bbs.shell.applets.registry import BadUsage, applet, decimal, options, options_or_usage, usage



def _is_address(host: str) -> bool:
    """Whether C{host} is an address (True) rather than a name to resolve."""
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def _split_url(url: str) -> tuple[str, str, int | None, str] | None:
    """(scheme, host, port, path) of C{url}, or C{None} if it is not a URL."""
    try:
        parts = urllib.parse.urlsplit(url if "://" in url else "http://" + url)
        port = parts.port
    except ValueError:
        return None
    if not parts.hostname:
        return None
    return parts.scheme.lower(), parts.hostname, port, parts.path


@applet("/usr/bin", "wget [-cqS] [--spider] [-O FILE] [-o LOGFILE] [--header STR]\n"
        "\t[--post-data STR | --post-file FILE] [-Y on/off]\n"
        "\t[--no-check-certificate] [-P DIR] [-U AGENT] URL...\n\n"
        "Retrieve files via HTTP or FTP\n\n"
        "\t--spider\tOnly check URL existence: $? is 0 if exists\n"
        "\t--header STR\tAdd STR (of form 'header: value') to headers\n"
        "\t--post-data STR\tSend STR using POST method\n"
        "\t--post-file FILE\tSend FILE using POST method\n"
        "\t--no-check-certificate\tDon't validate the server's certificate\n"
        "\t-c\t\tContinue retrieval of aborted transfer\n\t-q\t\tQuiet\n"
        "\t-P DIR\t\tSave to DIR (default .)\n\t-S    \t\tShow server response\n"
        "\t-O FILE\t\tSave to FILE ('-' for stdout)\n\t-o LOGFILE\tLog messages to FILE\n"
        "\t-U STR\t\tUse STR for User-Agent header\n\t-Y on/off\tUse proxy")
def wget(sh: Shell, io: Io, argv: list[str]) -> int:
    longs = {"continue": False, "spider": False, "quiet": False, "output-document": True,
             "header": True, "proxy": True, "user-agent": True, "post-data": True,
             "no-check-certificate": False, "timeout": True, "tries": True}
    parsed = options_or_usage(sh, io, argv, "csqO:o:P:Y:U:T:t:", longs)
    if parsed is None:
        return 1
    opts, urls = parsed
    if not urls:
        return usage(sh, io, "wget")
    quiet = "q" in opts or "quiet" in opts
    target = (opts.get("O") or opts.get("output-document") or [None])[-1]
    for url in urls:
        split = _split_url(url)
        if split is None or split[0] not in ("http", "https", "ftp"):
            io.err(f"wget: not an http or ftp url: {url}\n")
            return 1
        scheme, host, port, path = split
        full = url if "://" in url else "http://" + url
        if target == "-":
            outfile = io.stdout_path or "-"
        else:
            name = target or posixpath.basename(path) or "index.html"
            outfile = sh.path(posixpath.join((opts.get("P") or ["."])[-1], name))
        sh.download(full, outfile, scheme)
        default = {"http": 80, "https": 443, "ftp": 21}[scheme]
        if not _is_address(host):
            io.err(f"wget: bad address '{host}'\n")
        else:
            if not quiet:
                shown = f"{host}:{port}" if port else host  # the host as the URL spells it
                io.err(f"Connecting to {shown} ({host}:{port or default})\n")
            sh.pause(sh.limits.net_timeout)
            io.err(f"wget: can't connect to remote host ({host}): Connection timed out\n")
    return 1


@applet("/usr/bin", "tftp [OPTIONS] HOST [PORT]\n\nTransfer a file from/to tftp server\n\n"
        "\t-l FILE\tLocal FILE\n\t-r FILE\tRemote FILE\n\t-g\tGet file\n\t-p\tPut file\n"
        "\t-b SIZE\tTransfer blocks in bytes")
def tftp(sh: Shell, io: Io, argv: list[str]) -> int:
    parsed = options_or_usage(sh, io, argv, "cgpl:r:b:")
    if parsed is None:
        return 1
    opts, operands = parsed
    if "c" in opts and len(operands) == 3 and operands[1] in ("get", "put"):
        # the tftp-hpa form Gafgyt types: HOST -c get FILE
        opts.setdefault("g" if operands[1] == "get" else "p", [""])
        opts.setdefault("r", [operands[2]])
        operands = operands[:1]
    if not operands or ("g" in opts) == ("p" in opts):
        return usage(sh, io, "tftp")
    local = (opts.get("l") or [None])[-1]
    remote = (opts.get("r") or [local])[-1]
    if not remote:
        return usage(sh, io, "tftp")
    local = local or posixpath.basename(remote)
    host = operands[0]
    port = operands[1] if len(operands) > 1 else None
    if port is not None and (decimal(port) is None or not 0 < int(port) < 65536):
        io.err(f"tftp: bad port '{port}'\n")
        return 1
    if "g" in opts:
        where = f"{host}:{port}" if port and port != "69" else host
        sh.download(f"tftp://{where}/{remote.lstrip('/')}", sh.path(local), "tftp")
    if not _is_address(host):
        io.err(f"tftp: bad address '{host}'\n")
    else:
        sh.pause(sh.limits.net_timeout)
        io.err("tftp: timeout\n")
    return 1


@applet("/usr/bin", "ftpget [OPTIONS] HOST [LOCAL_FILE] REMOTE_FILE\n\n"
        "Download a file via FTP\n\n\t-c\tContinue previous transfer\n\t-v\tVerbose\n"
        "\t-u USER\tUsername\n\t-p PASS\tPassword\n\t-P PORT")
def ftpget(sh: Shell, io: Io, argv: list[str]) -> int:
    parsed = options_or_usage(sh, io, argv, "cvu:p:P:")
    if parsed is None:
        return 1
    opts, operands = parsed
    if len(operands) not in (2, 3):
        return usage(sh, io, "ftpget")
    host, remote = operands[0], operands[-1]
    local = operands[1] if len(operands) == 3 else posixpath.basename(remote)
    user = (opts.get("u") or [""])[-1]
    password = (opts.get("p") or [""])[-1]
    port = (opts.get("P") or [""])[-1]
    login = f"{user}:{password}@" if user and password else f"{user}@" if user else ""
    where = f"{host}:{port}" if port and port != "21" else host
    sh.download(f"ftp://{login}{where}/{remote.lstrip('/')}", sh.path(local), "ftp")
    if not _is_address(host):
        io.err(f"ftpget: bad address '{host}'\n")
    else:
        if "v" in opts:
            io.err(f"Connecting to {host} ({host}:{port or 21})\n")
        sh.pause(sh.limits.net_timeout)
        io.err(f"ftpget: can't connect to remote host ({host}): Connection timed out\n")
    return 1


def curl(sh: Shell, io: Io, argv: list[str]) -> int:
    """Not a BusyBox applet: C{/usr/bin/curl} is a program of its own."""
    longs = {"output": True, "remote-name": False, "silent": False, "show-error": False,
             "location": False, "insecure": False, "fail": False, "user-agent": True,
             "max-time": True, "connect-timeout": True, "retry": True, "request": True,
             "header": True, "data": True, "user": True, "proxy": True}
    try:
        opts, urls = options(argv, "o:OsSLkfA:m:X:H:d:u:x:v", longs)
    except BadUsage as e:
        io.err(f"{e}\ncurl: try 'curl --help' for more information\n")
        return 2
    if not urls:
        io.err("curl: try 'curl --help' for more information\n")
        return 2
    silent = ("s" in opts or "silent" in opts) and not ("S" in opts or "show-error" in opts)
    target = (opts.get("o") or opts.get("output") or [None])[-1]
    status = 0
    for url in urls:
        split = _split_url(url)
        if split is None:
            io.err("curl: (3) URL using bad/illegal format or missing URL\n")
            status = 3
            continue
        scheme, host, port, path = split
        full = url if "://" in url else "http://" + url
        if target is not None and target != "-":
            outfile = sh.path(target)
        elif "O" in opts or "remote-name" in opts:
            outfile = sh.path(posixpath.basename(path) or "index.html")
        else:
            outfile = io.stdout_path or "-"
        sh.download(full, outfile, scheme)
        if not _is_address(host):
            message, status = f"curl: (6) Could not resolve host: {host}", 6
        else:
            default = {"https": 443, "ftp": 21}.get(scheme, 80)
            message, status = (f"curl: (7) Failed to connect to {host} port {port or default}: "
                               "Connection timed out", 7)
            sh.pause(sh.limits.net_timeout)
        if not silent:
            io.err(message + "\n")
    return status
