#!/usr/bin/env python3
"""rawhttp.py — sends raw bytes to the server and prints what comes back.

The HTTP tests use it where curl would fix the input for us: malformed
request lines, oversized heads, short bodies, chunked bodies, slow or silent
clients. The bytes to send are a Python expression (--send "b'GET / ...'"),
evaluated here; the response bytes are written to stdout as received.

Options:
  --port P         server port on 127.0.0.1
  --send EXPR      bytes to send first
  --then EXPR      bytes to send after the first response arrived (or after
                   --pause seconds when nothing arrived)
  --shutdown       half-close (SHUT_WR) after sending
  --timeout S      stop reading after S seconds without data (default 5)
  --first          stop after the first response head and its body (by
                   Content-Length), without waiting for the connection to close
  --expect-closed  exit 3 unless the server closed the connection
"""
import argparse
import socket
import sys
import time


def read_response(sock, timeout, first):
    sock.settimeout(timeout)
    data = b""
    closed = False
    while True:
        if first and b"\r\n\r\n" in data:
            head, _, rest = data.partition(b"\r\n\r\n")
            length = 0
            for line in head.split(b"\r\n")[1:]:
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length":
                    length = int(value.strip())
            if len(rest) >= length:
                return data, closed
        try:
            chunk = sock.recv(65536)
        except socket.timeout:
            return data, closed
        except ConnectionResetError:
            return data, True
        if not chunk:
            return data, True
        data += chunk


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--send", default="b''")
    ap.add_argument("--then")
    ap.add_argument("--shutdown", action="store_true")
    ap.add_argument("--timeout", type=float, default=5.0)
    ap.add_argument("--first", action="store_true")
    ap.add_argument("--expect-closed", action="store_true")
    a = ap.parse_args()

    payload = eval(a.send, {})
    sock = socket.create_connection(("127.0.0.1", a.port), timeout=10)
    if payload:
        sock.sendall(payload)
    if a.then is None and a.shutdown:
        sock.shutdown(socket.SHUT_WR)
    data, closed = read_response(sock, a.timeout, a.first or a.then is not None)
    if a.then is not None:
        try:
            sock.sendall(eval(a.then, {}))
            if a.shutdown:
                sock.shutdown(socket.SHUT_WR)
            more, closed = read_response(sock, a.timeout, a.first)
            data += more
        except (BrokenPipeError, ConnectionResetError):
            closed = True
    sys.stdout.buffer.write(data)
    sys.stdout.flush()
    if a.expect_closed and not closed:
        # One more look: the server may close right after the response.
        sock.settimeout(a.timeout)
        try:
            closed = sock.recv(1) == b""
        except socket.timeout:
            closed = False
        except ConnectionResetError:
            closed = True
    sock.close()
    if a.expect_closed and not closed:
        print("rawhttp: the server kept the connection open", file=sys.stderr)
        sys.exit(3)


if __name__ == "__main__":
    main()
