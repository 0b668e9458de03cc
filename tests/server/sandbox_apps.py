"""Pieces of the small apps tests run inside sandboxes (``python3 -c``), standard library only."""

#: ``accept_websocket(conn)``: reads a WebSocket handshake from ``conn`` and answers 101 Switching Protocols.
WS_ACCEPT = r"""
import base64, hashlib
def accept_websocket(conn):
    head = b""
    while b"\r\n\r\n" not in head:
        head += conn.recv(4096)
    key = [l.split(b":", 1)[1].strip() for l in head.split(b"\r\n") if l.lower().startswith(b"sec-websocket-key")][0]
    accept = base64.b64encode(hashlib.sha1(key + b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11").digest())
    conn.sendall(b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                 b"Sec-WebSocket-Accept: " + accept + b"\r\n\r\n")
"""
