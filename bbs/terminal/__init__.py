"""The terminal layer: keys in, styled text out, one input line in between.

L{bbs.terminal.keys} decodes what terminals send, L{bbs.terminal.editor}
keeps the line being typed on the screen's last row, and
L{bbs.terminal.render} lays styled messages (L{bbs.styled}) out for one window
width.  It knows nothing about rooms or chat.
"""
