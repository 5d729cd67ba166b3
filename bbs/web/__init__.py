"""The browser door: a page with a terminal (xterm.js) and its WebSocket.

L{bbs.web.door} turns one WebSocket connection into a L{bbs.door.Door};
L{bbs.web.site} is the web site that serves the page, its assets and the
WebSocket.  The session behind the door is the same as behind telnet.
"""
