#!/usr/bin/env python3
"""Headless Chromium drives the protocol lab (the JSON server's page) over
the DevTools protocol and checks what the page shows, from its DOM.

It starts `target/release/plainws` on a free loopback port, opens the page,
clicks its buttons as a student would, and asserts:
  - a text the browser sends shows MASK=1 with a 4-byte key; the server's
    reply, MASK=0;
  - texts of 125, 126 and 65,536 bytes show the 7-, 16- and 64-bit length
    encodings;
  - the keyboard alone reaches and presses the buttons; the filter hides
    control frames;
  - the fragmented demo shows TEXT, PING, CONT, CONT (FIN 0, -, 0, 1), the
    browser's Pong, and one message event with the whole text;
  - a compressed message shows RSV1=1, its compressed bytes and the
    inflated text, and "next reply not compressed" gives RSV1=0;
  - a Close 4000 with its reason shows on the server's frame, on the
    browser's Close frame and in the page's close event;
  - with --no-lab the page still echoes, and shows no frame;
  - a masked server frame and a text that is not UTF-8 make the browser
    fail the connection (its Close carries 1002; for bad UTF-8 the RFC
    points to 1007, and Chromium sends 1002).
Screenshots (1,280 px and a phone's 390 px) go to target/lab/.

    scripts/lab-test.py CHROMIUM [--readme-shot docs/lab.png]

Needs the `websockets` package (the repo's venv: scripts/setup-venv.sh).
"""

import argparse
import base64
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time

from websockets.sync.client import connect

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SERVER = os.path.join(ROOT, "target", "release", "plainws")
ARTIFACTS = os.path.join(ROOT, "target", "lab")
TIMEOUT = 20.0


class Failed(Exception):
    pass


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port, proc, what):
    deadline = time.monotonic() + TIMEOUT
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise Failed(f"{what} exited with {proc.returncode}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.05)
    raise Failed(f"{what} never listened on {port}")


class Browser:
    """One headless Chromium and one page, driven over CDP."""

    def __init__(self, chromium):
        self.profile = tempfile.mkdtemp(prefix="lab-chromium-")
        self.proc = subprocess.Popen(
            [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
             "--no-first-run", "--disable-background-networking", "--disable-component-update",
             "--disable-sync", "--hide-scrollbars", "--remote-debugging-address=127.0.0.1",
             "--remote-debugging-port=0", f"--user-data-dir={self.profile}", "about:blank"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        port_file = os.path.join(self.profile, "DevToolsActivePort")
        deadline = time.monotonic() + TIMEOUT
        while not (os.path.exists(port_file) and len(open(port_file).read().split()) >= 2):
            if time.monotonic() > deadline or self.proc.poll() is not None:
                raise Failed("Chromium did not open its DevTools port")
            time.sleep(0.05)
        port, path = open(port_file).read().split()[:2]
        self.ws = connect(f"ws://127.0.0.1:{port}{path}", max_size=None,
                          open_timeout=TIMEOUT).__enter__()
        self.next_id = 0
        target = self.call("Target.createTarget", {"url": "about:blank"})["targetId"]
        self.session = self.call("Target.attachToTarget",
                                 {"targetId": target, "flatten": True})["sessionId"]

    def call(self, method, params=None, session=True):
        self.next_id += 1
        message = {"id": self.next_id, "method": method, "params": params or {}}
        if session and getattr(self, "session", None):
            message["sessionId"] = self.session
        self.ws.send(json.dumps(message))
        while True:
            reply = json.loads(self.ws.recv(timeout=TIMEOUT))
            if reply.get("id") == self.next_id:
                if "error" in reply:
                    raise Failed(f"{method}: {reply['error']}")
                return reply.get("result", {})

    def size(self, width, height, mobile=False):
        self.call("Emulation.setDeviceMetricsOverride",
                  {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": mobile})

    def open(self, url):
        self.call("Page.navigate", {"url": url})
        self.wait("document.readyState === 'complete' && !!document.getElementById('rows')", "the page")

    def eval(self, expression):
        result = self.call("Runtime.evaluate", {"expression": expression, "returnByValue": True})
        if "exceptionDetails" in result:
            raise Failed(f"page script failed: {expression}: {result['exceptionDetails']}")
        return result["result"].get("value")

    def wait(self, expression, what):
        deadline = time.monotonic() + TIMEOUT
        while time.monotonic() < deadline:
            value = self.eval(expression)
            if value:
                return value
            time.sleep(0.05)
        rows = self.eval("Array.from(document.querySelectorAll('#rows tr'), r => JSON.stringify(r.dataset)).join('\\n')")
        status = self.eval("document.getElementById('status').textContent")
        raise Failed(f"timed out waiting for {what}\nrows:\n{rows}\nstatus: {status}")

    def key(self, key, text, code):
        for kind in ("keyDown", "keyUp"):
            params = {"type": kind, "key": key, "code": key, "windowsVirtualKeyCode": code}
            if kind == "keyDown":
                params["text"] = text
            self.call("Input.dispatchKeyEvent", params)

    def click(self, button):
        self.eval(f"document.getElementById({json.dumps(button)}).click()")

    def screenshot(self, path, full=False):
        params = {"format": "png"}
        if full:
            params["captureBeyondViewport"] = True
        data = self.call("Page.captureScreenshot", params)["data"]
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as f:
            f.write(base64.b64decode(data))
        print(f"lab-test: screenshot {os.path.relpath(path, ROOT)}")

    def close(self):
        try:
            self.ws.close()
        except Exception:
            pass
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        shutil.rmtree(self.profile, ignore_errors=True)


# Row lookups, as JavaScript: rows after index `since` matching a dataset.
ROWS = "Array.from(document.querySelectorAll('#rows tr'))"


def rows_js(since, **match):
    conds = " && ".join(f"String(r.dataset.{k}) === {json.dumps(str(v))}" for k, v in match.items())
    return f"{ROWS}.slice({since}).filter(r => {conds or 'true'})"


def count(b):
    return b.eval(f"{ROWS}.length")


def expect(b, since, what, **match):
    b.wait(f"{rows_js(since, **match)}.length > 0", what)
    print(f"lab-test: ok: {what}")


def scenario_frames(b, base):
    """An uncompressed connection: masks, length forms, fragments, Ping."""
    b.open(f"{base}/?deflate=off")
    b.wait("document.getElementById('status').textContent === 'open' && !!document.getElementById('hs-accept')",
           "the connection and its handshake report")
    steps = b.eval("Array.from(document.querySelectorAll('#hs-steps li'), li => li.textContent)")
    if len(steps) != 4 or "258EAFA5-E914-47DA-95CA-C5AB0DC85B11" not in steps[1]:
        raise Failed(f"the accept computation is not shown step by step: {steps}")
    accept = b.eval("document.getElementById('hs-accept').textContent")
    if f"Sec-WebSocket-Accept: {accept}" not in b.eval("document.getElementById('hs-response').textContent"):
        raise Failed("the response shown does not carry the accept value computed")
    print("lab-test: ok: the handshake: request, response, key + GUID -> SHA-1 -> base64")

    since = count(b)
    b.click("send")
    expect(b, since, "the browser's text frame: MASK=1, a 4-byte key",
           kind="frame", dir="in", op="TEXT", mask=1, keylen=4, rsv1=0)
    expect(b, since, "the server's text frame: MASK=0, no key",
           kind="frame", dir="out", op="TEXT", mask=0, keylen=0)

    for size, form in ((125, 7), (126, 16), (65536, 64)):
        since = count(b)
        b.eval(f"document.getElementById('size').value = '{size}'")
        b.click("send-size")
        expect(b, since, f"a {size}-byte frame in the {form}-bit length form",
               kind="frame", dir="in", op="TEXT", len=size, form=form, mask=1)

    since = count(b)
    b.click("do-fragmented")
    text = "one message, sent by the server in three fragments"
    b.wait(f"{rows_js(since, kind='browser', event='message', text=text)}.length > 0",
           "the fragmented message delivered")
    b.wait(f"{rows_js(since, kind='frame', dir='in', op='PONG', text='between fragments')}.length > 0",
           "the browser's Pong to the Ping between fragments")
    frames = b.eval(f"{rows_js(since, kind='frame', dir='out')}.map(r => r.dataset.op + ':' + r.dataset.fin)")
    # The reply to the previous message may come first.
    frames = frames[frames.index("TEXT:0"):] if "TEXT:0" in frames else frames
    if frames[:4] != ["TEXT:0", "PING:1", "CONT:0", "CONT:1"]:
        raise Failed(f"the fragmented demo's frames are {frames}, not TEXT, PING, CONT, CONT")
    # Earlier replies may still be reported after `since`: count the events
    # that carry the text or a piece of it.
    delivered = b.eval(f"{rows_js(since, kind='browser', event='message')}"
                       f".map(r => r.dataset.text).filter(t => t && {json.dumps(text)}.includes(t))")
    if delivered != [text]:
        raise Failed(f"the fragmented message gave these message events: {delivered}, not one")
    print("lab-test: ok: three frames and a Ping, reassembled to one message")

    since = count(b)
    b.click("do-ping")
    expect(b, since, "the Ping button's Ping and the browser's automatic Pong",
           kind="frame", dir="in", op="PONG", text="are you there?")
    expect(b, since, "the server's Ping", kind="frame", dir="out", op="PING", text="are you there?")
    b.screenshot(os.path.join(ARTIFACTS, "lab-frames-1280.png"))

    # The filter: control frames hidden, data frames still shown.
    b.click("show-control")
    hidden = b.eval(f"{ROWS}.filter(r => r.classList.contains('control')).every(r => r.hidden)")
    shown = b.eval(f"{ROWS}.filter(r => r.dataset.op === 'TEXT').every(r => !r.hidden)")
    b.click("show-control")
    if not (hidden and shown):
        raise Failed(f"the control-frame filter: control hidden {hidden}, data shown {shown}")
    print("lab-test: ok: the filter hides control frames and keeps data frames")

    # The keyboard alone: Tab from the text box to "A Ping", then Enter.
    since = count(b)
    b.eval("document.getElementById('cmd').focus()")
    order = []
    for _ in range(40):
        b.key("Tab", "\t", 9)
        order.append(b.eval("document.activeElement.id"))
        if order[-1] == "do-ping":
            break
    if order[-1] != "do-ping":
        raise Failed(f"Tab never reached the Ping button: {order}")
    b.key("Enter", "\r", 13)
    expect(b, since, "a Ping sent from the keyboard, and its Pong", kind="frame", dir="in", op="PONG")


def scenario_compression_and_close(b, base):
    b.open(f"{base}/")
    b.wait("document.getElementById('status').textContent === 'open' && !!document.getElementById('hs-accept')",
           "a compressed connection")
    ext = b.eval("document.getElementById('hs-extension').textContent")
    if not ext.startswith("permessage-deflate"):
        raise Failed(f"the handshake shows extension {ext!r}")
    since = count(b)
    b.eval("document.getElementById('cmd').value = 'hello, hello, hello: a message that repeats compresses well, hello'")
    b.click("send")
    expect(b, since, "the browser's compressed frame: RSV1=1", kind="frame", dir="in", op="TEXT", rsv1=1, mask=1)
    expect(b, since, "the server's compressed frame: RSV1=1", kind="frame", dir="out", op="TEXT", rsv1=1, mask=0)
    for direction in ("in", "out"):
        shown = b.eval(f"{rows_js(since, kind='message', dir=direction, compressed=1)}.map(r => [r.querySelector('.compressed-bytes').textContent, r.querySelector('.inflated-text').textContent])")
        if not shown or not shown[0][0].startswith("deflate: ") or len(shown[0][0]) < 12 or "hello" not in shown[0][1]:
            raise Failed(f"the compressed message ({direction}) does not show both forms: {shown}")
    print("lab-test: ok: a compressed message shows its deflate bytes and the inflated text")

    since = count(b)
    b.click("do-uncompressed")
    b.click("send")
    expect(b, since, "the next reply not compressed: RSV1=0", kind="frame", dir="out", op="TEXT", rsv1=0)
    b.click("do-fragmented")
    b.wait(f"{rows_js(since, kind='frame', dir='in', op='PONG')}.length > 0", "the Pong")
    b.eval("window.scrollTo(0, 0)")
    b.screenshot(os.path.join(ARTIFACTS, "lab-1280.png"))
    b.size(1280, 1300)
    b.eval("document.getElementById('handshake-box').open = false")
    b.screenshot(os.path.join(ARTIFACTS, "lab-1280-frames.png"))
    b.eval("document.getElementById('handshake-box').open = true")
    b.size(390, 844, mobile=True)
    b.eval("document.querySelector('#rows tr.frame').scrollIntoView()")
    b.screenshot(os.path.join(ARTIFACTS, "lab-phone.png"))
    width = b.eval("document.documentElement.scrollWidth")
    if width > 390:
        raise Failed(f"at a phone's width the page scrolls sideways ({width} px)")
    print("lab-test: ok: at 390 px the page fits the width")
    b.size(1280, 900)

    since = count(b)
    b.eval("document.getElementById('close-code').value = '4000'")
    b.eval("document.getElementById('close-reason').value = 'lab says goodbye'")
    b.click("do-close")
    expect(b, since, "the server's Close 4000 with its reason",
           kind="frame", dir="out", op="CLOSE", code=4000, reason="lab says goodbye")
    expect(b, since, "the browser's Close 4000", kind="frame", dir="in", op="CLOSE", code=4000, mask=1)
    expect(b, since, "the page's close event: 4000 and the reason",
           kind="browser", event="close", code=4000, reason="lab says goodbye")


def scenario_violation(b, base, button, codes):
    b.open(f"{base}/")
    b.wait("document.getElementById('status').textContent === 'open' && document.getElementById('lab').textContent === 'on'",
           "a connection")
    since = count(b)
    b.click(button)
    expect(b, since, f"{button}: the raw frame", kind="frame", dir="out", raw=1)
    closes = rows_js(since, kind="frame", dir="in", op="CLOSE")
    code = int(b.wait(f"{closes}.map(r => r.dataset.code)[0]", f"{button}: the browser's Close"))
    if code not in codes:
        raise Failed(f"{button}: the browser closed with {code}, not one of {codes}")
    print(f"lab-test: ok: {button}: the browser fails the connection with {code}")
    expect(b, since, f"{button}: the page's close event (1006: failed)", kind="browser", event="close", code=1006)


def readme_picture(b, base, path):
    """The README's screenshot: a compressed message, the fragmented demo
    and a Ping, with the handshake folded and the explanations hidden."""
    b.size(1280, 1480)
    b.open(f"{base}/")
    b.wait("document.getElementById('status').textContent === 'open' && !!document.getElementById('hs-accept')",
           "a connection")
    b.eval("document.getElementById('cmd').value = 'hello, hello, hello: repeated text compresses well'")
    b.click("send")
    b.wait(f"{rows_js(0, kind='message', dir='out')}.length > 0", "the reply")
    b.click("do-fragmented")
    b.wait(f"{rows_js(0, kind='frame', dir='in', op='PONG')}.length > 0", "the Pong")
    b.click("do-ping")
    b.wait(f"{rows_js(0, kind='frame', dir='in', op='PONG')}.length > 1", "the second Pong")
    time.sleep(0.2)
    b.eval("document.getElementById('handshake-box').open = false")
    b.eval("document.getElementById('show-notes').click()")
    b.eval("document.activeElement.blur(); window.scrollTo(0, 0)")
    b.screenshot(path)


def scenario_no_lab(b):
    """With --no-lab the page still echoes, and shows no frame."""
    port = free_port()
    server = subprocess.Popen([SERVER, "--addr", f"127.0.0.1:{port}", "--no-lab", "--quiet"])
    try:
        wait_port(port, server, "plainws --no-lab")
        b.open(f"http://127.0.0.1:{port}/?auto=without%20lab")
        b.wait("document.getElementById('log').textContent.includes('Thanks for your message: without lab')",
               "the echo without the lab")
        lab = b.eval("document.getElementById('lab').textContent")
        frames = b.eval(f"{rows_js(0, kind='frame')}.length")
        if not lab.startswith("off") or frames != 0:
            raise Failed(f"with --no-lab the page says lab {lab!r} and shows {frames} frames")
        print("lab-test: ok: with --no-lab the page echoes and the lab is off")
    finally:
        server.terminate()
        server.wait(timeout=10)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("chromium")
    parser.add_argument("--readme-shot")
    args = parser.parse_args()
    port = free_port()
    log = open(os.path.join(tempfile.gettempdir(), f"lab-server-{port}.log"), "w+")
    server = subprocess.Popen([SERVER, "--addr", f"127.0.0.1:{port}"], stdout=log, stderr=log)
    browser = None
    try:
        wait_port(port, server, "plainws")
        browser = Browser(args.chromium)
        browser.size(1280, 900)
        base = f"http://127.0.0.1:{port}"
        scenario_frames(browser, base)
        scenario_compression_and_close(browser, base)
        if args.readme_shot:
            readme_picture(browser, base, args.readme_shot)
            browser.size(1280, 900)
        scenario_violation(browser, base, "do-masked", (1002,))
        # RFC 6455 §8.1 and §7.4.1 point to 1007; Chromium sends 1002.
        scenario_violation(browser, base, "do-utf8", (1007, 1002))
        scenario_no_lab(browser)
        print("lab-test: passed")
        return 0
    except Failed as e:
        log.seek(0)
        print(f"lab-test: FAILED: {e}\n--- server log ---\n{log.read()[-3000:]}", file=sys.stderr)
        return 1
    finally:
        if browser:
            browser.close()
        server.terminate()
        server.wait(timeout=10)


if __name__ == "__main__":
    sys.exit(main())
