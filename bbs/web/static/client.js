/*
 * The browser door's page: an xterm.js terminal joined to the BBS by a
 * WebSocket at /ws on the page's own host.
 *
 * Binary frames carry bytes both ways: what the person types (UTF-8) and the
 * BBS's output (written to the terminal as it comes).  Text frames carry
 * control as JSON; the only one is {"type":"resize","cols":C,"rows":R}.
 *
 * A classic script, not a module, so the page needs no bundler: in a browser
 * it starts itself; under node (`module` exists) it only exports its parts,
 * so tests/web/client.test.mjs can drive them with fakes.
 */
(function (root, factory) {
  "use strict";
  const client = factory();
  if (typeof module === "object" && module.exports) {
    module.exports = client;
  } else {
    client.start(root);
  }
})(globalThis, function () {
  "use strict";

  const OPEN = 1; // WebSocket.OPEN, here so fakes need not define it

  /** The WebSocket URL for a page at `location`: same host, path /ws. */
  function socketUrl(location) {
    const scheme = location.protocol === "https:" ? "wss:" : "ws:";
    return scheme + "//" + location.host + "/ws";
  }

  /** What the person typed (xterm's onData, a string) as UTF-8 bytes. */
  function encodeInput(data) {
    return new TextEncoder().encode(data);
  }

  /**
   * xterm's onBinary string (one char per byte, e.g. X10 mouse reports) as
   * those bytes: UTF-8 would turn bytes over 127 into two.
   */
  function encodeBinary(data) {
    return Uint8Array.from(data, (ch) => ch.charCodeAt(0) & 0xff);
  }

  /** The control message telling the server the terminal's size. */
  function resizeMessage(cols, rows) {
    return JSON.stringify({ type: "resize", cols: cols, rows: rows });
  }

  /** The line shown when the connection ends, with the server's reason. */
  function closedText(event) {
    const reason = event && event.reason ? String(event.reason).trim() : "";
    if (reason) {
      return "Disconnected: " + reason;
    }
    if (event && event.code && event.code !== 1000 && event.code !== 1005) {
      return "Disconnected (the connection was lost, code " + event.code + ").";
    }
    return "Disconnected.";
  }

  /**
   * One session: open a socket and join it to `term` until it closes.
   *
   * env: { term, WebSocket, location, onClose(text) }.  The terminal's size
   * is sent when the socket opens and whenever xterm reports a new one (a fit
   * that changed it); a size already sent is not sent again.  Returns the
   * socket.
   */
  function connect(env) {
    const term = env.term;
    const socket = new env.WebSocket(socketUrl(env.location));
    socket.binaryType = "arraybuffer";
    let sentSize = "";

    function sendSize() {
      const size = term.cols + "x" + term.rows;
      if (socket.readyState === OPEN && size !== sentSize) {
        sentSize = size;
        socket.send(resizeMessage(term.cols, term.rows));
      }
    }
    function send(bytes) {
      if (socket.readyState === OPEN) {
        socket.send(bytes);
      }
    }

    const listeners = [
      term.onData((data) => send(encodeInput(data))),
      term.onBinary((data) => send(encodeBinary(data))),
      term.onResize(sendSize),
    ];
    socket.onopen = sendSize;
    socket.onmessage = (event) => {
      if (typeof event.data !== "string") {
        term.write(new Uint8Array(event.data));
      }
    };
    socket.onclose = (event) => {
      listeners.forEach((listener) => listener.dispose());
      env.onClose(closedText(event));
    };
    return socket;
  }

  /**
   * The page: a terminal filling #terminal, a session, and the bar (#status)
   * that says when it ended with a Reconnect button.  Reconnecting resets the
   * terminal: the new session starts at its own MOTD and login, and modes the
   * old one left set (colours, cursor keys, mouse) do not leak into it.
   */
  function start(window) {
    const document = window.document;
    const container = document.getElementById("terminal");
    const status = document.getElementById("status");
    const statusText = document.getElementById("status-text");
    const reconnect = document.getElementById("reconnect");

    const term = new window.Terminal({
      convertEol: false,
      scrollback: 1000,
      cursorBlink: true,
      fontFamily:
        '"DejaVu Sans Mono", "Cascadia Mono", Menlo, Consolas, "Liberation Mono", monospace',
      fontSize: 15,
      theme: { background: "#101418", foreground: "#d8dee4", cursor: "#d8dee4" },
    });
    const fit = new window.FitAddon.FitAddon();
    term.loadAddon(fit);
    term.open(container);
    fit.fit();

    let frame = 0;
    function refit() {
      if (!frame) {
        frame = window.requestAnimationFrame(() => {
          frame = 0;
          fit.fit();
        });
      }
    }
    if (window.ResizeObserver) {
      new window.ResizeObserver(refit).observe(container);
    } else {
      window.addEventListener("resize", refit);
    }

    function open() {
      status.hidden = true;
      connect({
        term: term,
        WebSocket: window.WebSocket,
        location: window.location,
        onClose(text) {
          statusText.textContent = text;
          status.hidden = false;
          reconnect.focus();
        },
      });
      term.focus();
    }
    reconnect.addEventListener("click", () => {
      term.reset();
      open();
    });
    // A tap anywhere outside the bar focuses the terminal, so a phone's
    // on-screen keyboard opens and types into it.
    container.addEventListener("click", () => term.focus());
    open();
    return term;
  }

  return { socketUrl, encodeInput, encodeBinary, resizeMessage, closedText, connect, start };
});
