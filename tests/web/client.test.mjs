// The browser door's client.js, driven with fakes for WebSocket, Terminal and
// the document.  Node's own test runner, no dependencies: `node --test tests/web/`.
import { test } from "node:test";
import assert from "node:assert/strict";
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);
const client = require("../../bbs/web/static/client.js");

/** A WebSocket that records what is sent and lets the test play the server. */
class FakeSocket {
  static last = null;
  constructor(url) {
    this.url = url;
    this.readyState = 0;
    this.sent = [];
    this.binaryType = "blob";
    FakeSocket.last = this;
  }
  send(data) {
    this.sent.push(data);
  }
  serverOpens() {
    this.readyState = 1;
    this.onopen({});
  }
  serverSends(data) {
    this.onmessage({ data });
  }
  serverCloses(code, reason) {
    this.readyState = 3;
    this.onclose({ code, reason });
  }
}

/** The parts of xterm's Terminal that client.js uses. */
class FakeTerminal {
  constructor(options) {
    this.options = options;
    this.cols = 80;
    this.rows = 24;
    this.written = [];
    this.handlers = { data: [], binary: [], resize: [] };
    this.focused = 0;
    this.resets = 0;
  }
  listen(kind, handler) {
    this.handlers[kind].push(handler);
    return { dispose: () => this.handlers[kind].splice(this.handlers[kind].indexOf(handler), 1) };
  }
  onData(handler) {
    return this.listen("data", handler);
  }
  onBinary(handler) {
    return this.listen("binary", handler);
  }
  onResize(handler) {
    return this.listen("resize", handler);
  }
  type(data) {
    this.handlers.data.forEach((h) => h(data));
  }
  typeBinary(data) {
    this.handlers.binary.forEach((h) => h(data));
  }
  resize(cols, rows) {
    const changed = cols !== this.cols || rows !== this.rows;
    this.cols = cols;
    this.rows = rows;
    if (changed) this.handlers.resize.forEach((h) => h({ cols, rows }));
  }
  write(bytes) {
    this.written.push(bytes);
  }
  focus() {
    this.focused += 1;
  }
  reset() {
    this.resets += 1;
  }
  loadAddon(addon) {
    addon.terminal = this;
  }
  open(element) {
    this.element = element;
  }
}

const page = { protocol: "http:", host: "bbs.example:8080" };

function session(location = page) {
  const term = new FakeTerminal({});
  const closed = [];
  const socket = client.connect({
    term,
    WebSocket: FakeSocket,
    location,
    onClose: (text) => closed.push(text),
  });
  return { term, socket, closed };
}

const decode = (bytes) => new TextDecoder().decode(bytes);

test("the socket is on the page's host at /ws, wss for an https page", () => {
  assert.equal(client.socketUrl(page), "ws://bbs.example:8080/ws");
  assert.equal(client.socketUrl({ protocol: "https:", host: "bbs.example" }), "wss://bbs.example/ws");
  assert.equal(client.socketUrl({ protocol: "http:", host: "[::1]:8080" }), "ws://[::1]:8080/ws");
});

test("typed text goes as UTF-8 bytes; onBinary's chars go as single bytes", () => {
  assert.deepEqual([...client.encodeInput("é\r")], [0xc3, 0xa9, 0x0d]);
  assert.deepEqual([...client.encodeInput("😀")], [0xf0, 0x9f, 0x98, 0x80]);
  assert.deepEqual([...client.encodeBinary("\x1b[M\xff!")], [0x1b, 0x5b, 0x4d, 0xff, 0x21]);
});

test("the resize message is the JSON the server reads", () => {
  assert.deepEqual(JSON.parse(client.resizeMessage(120, 40)), { type: "resize", cols: 120, rows: 40 });
});

test("the closed line carries the server's reason, or says the connection was lost", () => {
  assert.equal(client.closedText({ code: 1008, reason: "Banned: flooding" }), "Disconnected: Banned: flooding");
  assert.equal(client.closedText({ code: 1000, reason: "" }), "Disconnected.");
  assert.equal(client.closedText({ code: 1005, reason: "" }), "Disconnected.");
  assert.match(client.closedText({ code: 1006, reason: "" }), /lost, code 1006/);
});

test("on open the first message is the terminal's size, as text", () => {
  const { socket } = session();
  assert.equal(socket.url, "ws://bbs.example:8080/ws");
  assert.equal(socket.binaryType, "arraybuffer");
  socket.serverOpens();
  assert.deepEqual(socket.sent, ['{"type":"resize","cols":80,"rows":24}']);
});

test("what is typed is sent as binary, and nothing before the socket is open", () => {
  const { term, socket } = session();
  term.type("lost");
  assert.equal(socket.sent.length, 0);
  socket.serverOpens();
  term.type("hi ☃\r");
  const typed = socket.sent[1];
  assert.ok(typed instanceof Uint8Array);
  assert.equal(decode(typed), "hi ☃\r");
  term.typeBinary("\x80");
  assert.deepEqual([...socket.sent[2]], [0x80]);
});

test("a new size is sent once after a fit changes it, never twice", () => {
  const { term, socket } = session();
  term.resize(100, 30); // a fit before the socket opened: sent on open instead
  socket.serverOpens();
  term.resize(100, 30);
  term.resize(132, 43);
  term.resize(132, 43);
  assert.deepEqual(
    socket.sent.map((m) => JSON.parse(m)),
    [
      { type: "resize", cols: 100, rows: 30 },
      { type: "resize", cols: 132, rows: 43 },
    ],
  );
});

test("binary frames from the server are written to the terminal as bytes; text frames are not", () => {
  const { term, socket } = session();
  socket.serverOpens();
  const output = new TextEncoder().encode("Welcome\r\nlogin: ").buffer;
  socket.serverSends(output);
  socket.serverSends('{"type":"something"}');
  assert.equal(term.written.length, 1);
  assert.ok(term.written[0] instanceof Uint8Array);
  assert.equal(decode(term.written[0]), "Welcome\r\nlogin: ");
});

test("on close the page is told why, and the terminal no longer feeds the dead socket", () => {
  const { term, socket, closed } = session();
  socket.serverOpens();
  socket.serverSends(new TextEncoder().encode("Goodbye.\r\n").buffer);
  socket.serverCloses(1000, "Goodbye.");
  assert.deepEqual(closed, ["Disconnected: Goodbye."]);
  assert.equal(term.handlers.data.length + term.handlers.binary.length + term.handlers.resize.length, 0);
  term.type("x");
  assert.equal(socket.sent.length, 1); // only the size sent on open
});

/** Just enough of a page for start(): the elements index.html has. */
function fakeWindow() {
  const element = (id) => ({
    id,
    hidden: id === "status",
    textContent: "",
    listeners: {},
    focused: 0,
    addEventListener(kind, handler) {
      this.listeners[kind] = handler;
    },
    focus() {
      this.focused += 1;
    },
  });
  const elements = Object.fromEntries(
    ["terminal", "status", "status-text", "reconnect"].map((id) => [id, element(id)]),
  );
  const observed = [];
  const win = {
    document: { getElementById: (id) => elements[id] },
    location: { protocol: "https:", host: "bbs.example" },
    WebSocket: FakeSocket,
    Terminal: FakeTerminal,
    FitAddon: {
      FitAddon: class {
        constructor() {
          this.fits = 0;
        }
        fit() {
          this.fits += 1;
        }
      },
    },
    ResizeObserver: class {
      constructor(callback) {
        this.callback = callback;
      }
      observe(target) {
        observed.push([target, this.callback]);
      }
    },
    requestAnimationFrame(callback) {
      win.frames.push(callback);
      return win.frames.length;
    },
    frames: [],
  };
  return { win, elements, observed };
}

test("start opens a focused terminal in #terminal, fitted, on a wss socket", () => {
  const { win, elements, observed } = fakeWindow();
  const term = client.start(win);
  assert.equal(term.element, elements.terminal);
  assert.equal(term.options.convertEol, false);
  assert.equal(term.options.scrollback, 1000);
  assert.ok(term.focused >= 1);
  assert.equal(FakeSocket.last.url, "wss://bbs.example/ws");
  assert.equal(elements.status.hidden, true);
  // A resize of the container refits once per animation frame.
  const [target, callback] = observed[0];
  assert.equal(target, elements.terminal);
  callback();
  callback();
  assert.equal(win.frames.length, 1);
});

test("a close shows the bar with the reason; Reconnect resets the terminal and opens a new socket", () => {
  const { win, elements } = fakeWindow();
  const term = client.start(win);
  const first = FakeSocket.last;
  first.serverOpens();
  first.serverCloses(4000, "Idle too long.");
  assert.equal(elements.status.hidden, false);
  assert.equal(elements["status-text"].textContent, "Disconnected: Idle too long.");
  assert.equal(elements.reconnect.focused, 1);

  elements.reconnect.listeners.click();
  const second = FakeSocket.last;
  assert.notEqual(second, first);
  assert.equal(term.resets, 1);
  assert.equal(elements.status.hidden, true);
  second.serverOpens();
  term.type("a");
  assert.equal(decode(second.sent[1]), "a");
  assert.equal(first.sent.length, 1);
});

test("a tap on the terminal's area focuses it, so a phone's keyboard types into it", () => {
  const { win, elements } = fakeWindow();
  const term = client.start(win);
  const before = term.focused;
  elements.terminal.listeners.click();
  assert.equal(term.focused, before + 1);
});
