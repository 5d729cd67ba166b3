"""What a session is doing: the states of its life, in order.

Apart from the session, so that the modules a session is made of
(L{bbs.applying}) and the tests can name them without importing it.
"""

LOGIN, CHAT, SHELL, CLOSED = "login", "chat", "shell", "closed"
