#!/usr/bin/env python3
"""Drives Roomcast's web page in real headless Chromium (through chromedriver and Selenium).

    python3 browser_test.py http://127.0.0.1:PORT OUTDIR [IRC_BOT_NICK]

Three browser windows join the chat as alice, bob and carol (carol first tries the taken nick
alice). Alice talks to everyone, then @mentions bob (completing the nick with Tab): bob sees it
highlighted, carol never sees it. A mention of someone absent is an error to alice; a direct
message shows up in bob's sidebar. With IRC_BOT_NICK, alice pings that member
(which the Swift test runs on the IRC side of the same chat core) and waits for its pong.
The camera image must show 640x480 frames that change. History search and the viewers panel
are exercised. Files: alice shares one with the room through the page's file input and bob's
browser downloads it from the link byte for byte; a file for "@bob" reaches bob, not carol,
and is refused without its key; a file over the server's 1 MB limit (the Swift test sets it)
is refused with a message under the message box. Screenshots go to OUTDIR (page.png is bob's window). Prints one JSON object:
{"ok": bool, "checks": {name: bool}, "details": {...}, "console": [...], "error": str?}.
"""

import hashlib
import json
import os
import shutil
import sys
import time
import traceback
import urllib.error
import urllib.request

from selenium import webdriver
from selenium.common.exceptions import TimeoutException
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import WebDriverWait

WAIT = 25  # seconds; the test machine may have two cores and three browsers


def executable(*names):
    for name in names:
        path = shutil.which(name)
        if path:
            return path
    raise RuntimeError(f"none of {names} is on PATH")


def open_browser():
    options = Options()
    options.binary_location = executable("chromium", "chromium-browser", "google-chrome")
    for argument in (
        "--headless=new",
        "--no-sandbox",  # CI runs as root
        "--disable-dev-shm-usage",
        "--disable-gpu",
        "--window-size=1280,860",
        "--no-first-run",
        "--disable-extensions",
        "--mute-audio",
        "--disable-background-timer-throttling",
        "--disable-renderer-backgrounding",
        "--disable-backgrounding-occluded-windows",
    ):
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    # An explicit chromedriver keeps Selenium Manager from trying to download one.
    return webdriver.Chrome(service=Service(executable_path=executable("chromedriver")), options=options)


def wait(driver, what, condition, timeout=WAIT):
    try:
        return WebDriverWait(driver, timeout, poll_frequency=0.1).until(lambda d: condition(d))
    except TimeoutException:
        raise RuntimeError(f"timed out waiting for {what}") from None


def message_texts(driver):
    return driver.execute_script(
        "return [...document.querySelectorAll('#messages li')].map(li => ({"
        " text: (li.querySelector('.text') || li).textContent,"
        " sender: (li.querySelector('.sender') || {}).textContent || null,"
        " classes: li.className }));"
    )


def find_message(driver, needle):
    for item in message_texts(driver):
        if needle in item["text"]:
            return item
    return None


def members(driver):
    return driver.execute_script(
        "return [...document.querySelectorAll('#members li')].map(li => li.dataset.nick);"
    )


def log_in(driver, base, nick):
    if not driver.current_url.startswith(base):
        driver.get(base + "/")
    wait(driver, "the login form", lambda d: d.find_element(By.ID, "nick").is_displayed())
    field = driver.find_element(By.ID, "nick")
    field.clear()
    field.send_keys(nick)
    driver.find_element(By.ID, "login-button").click()
    wait(driver, f"{nick} to be in #lobby", lambda d: nick in members(d))


def say(driver, text):
    box = driver.find_element(By.ID, "say")
    box.send_keys(text)
    box.send_keys(Keys.ENTER)


def camera_state(driver):
    return driver.execute_script(
        "const img = document.getElementById('camera');"
        "return { complete: img.complete, width: img.naturalWidth, height: img.naturalHeight, src: img.src };"
    )


def camera_pixels(driver):
    """A fingerprint of the frame the <img> shows now (same origin, so the canvas is readable)."""
    return driver.execute_script(
        "const img = document.getElementById('camera');"
        "const canvas = document.createElement('canvas');"
        "canvas.width = 160; canvas.height = 120;"
        "const context = canvas.getContext('2d');"
        "context.drawImage(img, 0, 0, 160, 120);"
        "const data = context.getImageData(0, 0, 160, 120).data;"
        "let hash = 0; for (let i = 0; i < data.length; i += 7) { hash = (hash * 31 + data[i]) | 0; }"
        "return hash;"
    )


def file_link(driver, name):
    """The first link in the conversation whose text holds `name`: its href and download attribute."""
    return driver.execute_script(
        "const a = [...document.querySelectorAll('#messages a')].find(a => a.textContent.includes(arguments[0]));"
        "return a ? { href: a.href, download: a.getAttribute('download'), text: a.closest('li').textContent } : null;",
        name,
    )


def fetch_digest(driver, href):
    """Downloads `href` in the browser (same origin) and returns its status, length and SHA-256."""
    return driver.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "fetch(arguments[0], { cache: 'no-store' }).then(async (r) => {"
        "  const body = await r.arrayBuffer();"
        "  const hash = await crypto.subtle.digest('SHA-256', body);"
        "  done({ status: r.status, length: body.byteLength,"
        "         sha256: [...new Uint8Array(hash)].map((b) => b.toString(16).padStart(2, '0')).join(''),"
        "         disposition: r.headers.get('Content-Disposition'), type: r.headers.get('Content-Type') });"
        "}).catch((e) => done({ error: String(e) }));",
        href,
    )


def http_status(url):
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def share(driver, path):
    driver.find_element(By.ID, "file-input").send_keys(path)


def console_errors(driver, who):
    errors = []
    try:
        for entry in driver.get_log("browser"):
            if entry.get("level") == "SEVERE" and "favicon" not in entry.get("message", ""):
                errors.append(f"{who}: {entry.get('message')}")
    except Exception as error:  # some drivers do not keep logs
        errors.append(f"{who}: could not read the console: {error}")
    return errors


def main():
    base = sys.argv[1].rstrip("/")
    out = sys.argv[2]
    bot = sys.argv[3] if len(sys.argv) > 3 else None
    os.makedirs(out, exist_ok=True)
    checks = {}
    details = {}
    console = []
    browsers = {}
    result = {"ok": False, "checks": checks, "details": details, "console": console}
    try:
        for nick in ("alice", "bob", "carol"):
            browsers[nick] = open_browser()
        alice, bob, carol = browsers["alice"], browsers["bob"], browsers["carol"]

        alice.get(base + "/")
        checks["title"] = alice.title == "Roomcast"
        log_in(alice, base, "alice")
        # A taken nick is refused in the login form, and the form can be used again.
        carol.get(base + "/")
        wait(carol, "the login form", lambda d: d.find_element(By.ID, "nick").is_displayed())
        carol.find_element(By.ID, "nick").send_keys("alice")
        carol.find_element(By.ID, "login-button").click()
        wait(carol, "the nick-in-use error", lambda d: "already in use" in d.find_element(By.ID, "login-error").text)
        checks["nick_in_use_shown"] = carol.find_element(By.ID, "login").is_displayed()
        carol.save_screenshot(os.path.join(out, "login.png"))
        log_in(bob, base, "bob")
        log_in(carol, base, "carol")
        checks["welcomed"] = all(d.find_element(By.ID, "me").text == n for n, d in browsers.items())
        expected = {"alice", "bob", "carol"} | ({bot} if bot else set())
        wait(alice, "everyone in alice's member list", lambda d: expected <= set(members(d)))
        details["members"] = members(alice)
        checks["members"] = True

        # Broadcast.
        say(alice, "hello everyone")
        for driver in (bob, carol):
            wait(driver, "the broadcast", lambda d: find_message(d, "hello everyone") is not None)
        seen = find_message(bob, "hello everyone")
        checks["broadcast"] = seen["sender"] == "alice" and "mention" not in seen["classes"]

        # @ completion: "@bo" offers bob; Tab takes it.
        box = alice.find_element(By.ID, "say")
        box.send_keys("@bo")
        wait(alice, "the completion list", lambda d: d.find_element(By.ID, "completions").is_displayed())
        offered = alice.execute_script(
            "return [...document.querySelectorAll('#completions li')].map(li => li.textContent);")
        details["completions"] = offered
        box.send_keys(Keys.TAB)
        completed = box.get_attribute("value")
        details["completed"] = completed
        checks["completion"] = offered == ["@bob"] and completed == "@bob "
        box.send_keys("only for you")
        box.send_keys(Keys.ENTER)

        wait(bob, "the mention", lambda d: find_message(d, "only for you") is not None)
        mention = find_message(bob, "only for you")
        details["mention_classes"] = mention["classes"]
        checks["mention_highlighted"] = "mention" in mention["classes"].split()
        wait(alice, "alice's echo", lambda d: find_message(d, "only for you") is not None)
        echo = find_message(alice, "only for you")
        checks["mention_echoed"] = "directed" in echo["classes"].split() and "to bob" in echo["text"]

        # Carol must not get it: bob speaks after it, and carol sees that but not the mention.
        say(bob, "sentinel from bob")
        wait(carol, "bob's sentinel", lambda d: find_message(d, "sentinel from bob") is not None)
        checks["mention_private"] = find_message(carol, "only for you") is None

        # Mentioning someone who is not there.
        say(alice, "@nobody are you there?")
        wait(alice, "the not-in-room error",
             lambda d: any("nobody is not in #lobby" in m["text"] and "error" in m["classes"] for m in message_texts(d)))
        checks["absent_mention_error"] = True

        # A member on the IRC side of the same core answers.
        if bot:
            say(alice, f"@{bot} ping")
            wait(alice, f"{bot}'s pong",
                 lambda d: any(m["sender"] == bot and "pong" in m["text"] for m in message_texts(d)))
            checks["irc_member_replies"] = "mention" in next(
                m for m in message_texts(alice) if m["sender"] == bot and "pong" in m["text"])["classes"].split()

        # A direct message: alice opens a conversation with bob from the member list.
        alice.find_element(By.CSS_SELECTOR, "#members li[data-nick='bob'] button.dm").click()
        wait(alice, "the direct conversation", lambda d: d.find_element(By.ID, "room-name").text == "bob")
        say(alice, "psst, bob")
        wait(alice, "alice's direct echo", lambda d: find_message(d, "psst, bob") is not None)
        wait(bob, "the direct conversation in bob's sidebar", lambda d: d.execute_script(
            "const b = document.querySelector('#directs button[data-room=\"alice\"] .badge');"
            "return b !== null && b.textContent === '1';"))
        checks["direct_message"] = find_message(bob, "psst, bob") is None  # bob still shows #lobby
        alice.find_element(By.CSS_SELECTOR, "#rooms button[data-room='#lobby']").click()
        wait(alice, "#lobby again", lambda d: d.find_element(By.ID, "room-name").text == "#lobby")

        # The camera: 640x480 frames that change.
        wait(alice, "a camera frame", lambda d: camera_state(d)["width"] > 0)
        state = camera_state(alice)
        details["camera"] = state
        checks["camera_size"] = state["width"] == 640 and state["height"] == 480
        first = camera_pixels(alice)
        changed = False
        for _ in range(30):
            time.sleep(0.2)
            if camera_pixels(alice) != first:
                changed = True
                break
        checks["camera_moves"] = changed

        # History search (the JSON API).
        search = alice.find_element(By.ID, "search")
        search.send_keys("hello")
        search.send_keys(Keys.ENTER)
        wait(alice, "search results", lambda d: d.execute_script(
            "return document.querySelectorAll('#search-results li').length > 0;"))
        results = alice.execute_script(
            "return [...document.querySelectorAll('#search-results li')].map(li => li.textContent);")
        details["search"] = results
        checks["history_search"] = any("hello everyone" in r for r in results) and not any(
            "only for you" in r for r in results)

        # Viewers & log panel.
        alice.find_element(By.CSS_SELECTOR, "#viewers-panel summary").click()
        wait(alice, "the viewers list", lambda d: d.execute_script(
            "return document.querySelectorAll('#viewers li').length > 0;"))
        viewers = alice.execute_script(
            "return [...document.querySelectorAll('#viewers li')].map(li => li.textContent);")
        details["viewers"] = viewers
        checks["viewers_panel"] = len(viewers) > 0 and not any(v.startswith("Unavailable") for v in viewers)

        # Files: alice shares one with the room through the file input; bob downloads it intact.
        payload = os.urandom(300_000)
        shared_path = os.path.join(out, "shared file.bin")
        with open(shared_path, "wb") as f:
            f.write(payload)
        share(alice, shared_path)
        for driver in (bob, carol):
            wait(driver, "the shared file's link", lambda d: file_link(d, "shared%20file.bin") is not None)
        link = file_link(bob, "shared%20file.bin")
        details["file_link"] = link
        checks["file_link"] = link["download"] == "" and "shared a file: shared file.bin (293 KB)" in link["text"]
        got = fetch_digest(bob, link["href"])
        details["file_download"] = got
        checks["file_shared_intact"] = (got.get("status") == 200 and got.get("length") == len(payload)
                                        and got.get("sha256") == hashlib.sha256(payload).hexdigest()
                                        and (got.get("disposition") or "").startswith("attachment;"))
        wait(alice, "alice's upload status", lambda d: "Shared shared file.bin" in d.find_element(By.ID, "upload-status").text)

        # A file for @bob only: typed mention first, then the file.
        secret = os.urandom(5000)
        secret_path = os.path.join(out, "for-bob.txt")
        with open(secret_path, "wb") as f:
            f.write(secret)
        box = alice.find_element(By.ID, "say")
        box.clear()
        box.send_keys("@bob ")
        share(alice, secret_path)
        wait(bob, "bob's file", lambda d: file_link(d, "for-bob.txt") is not None)
        directed = file_link(bob, "for-bob.txt")
        details["file_directed"] = directed
        got = fetch_digest(bob, directed["href"])
        checks["file_directed"] = ("?key=" in directed["href"] and "@bob sent you a file: for-bob.txt" in directed["text"]
                                   and got.get("sha256") == hashlib.sha256(secret).hexdigest())
        wait(alice, "the mention to be used up", lambda d: d.find_element(By.ID, "say").get_attribute("value") == "")
        say(bob, "sentinel after the file")
        wait(carol, "bob's sentinel after the file", lambda d: find_message(d, "sentinel after the file") is not None)
        without_key = directed["href"].split("?")[0]
        details["file_without_key"] = http_status(without_key)
        checks["file_directed_private"] = file_link(carol, "for-bob.txt") is None and details["file_without_key"] == 404

        # Over the limit: refused in the page with the server's message.
        big_path = os.path.join(out, "big.bin")
        with open(big_path, "wb") as f:
            f.write(os.urandom(1_500_000))
        share(alice, big_path)
        wait(alice, "the too-large message", lambda d: "larger than the 1 MB upload limit"
             in d.find_element(By.ID, "upload-status").text)
        checks["file_too_large_shown"] = "error" in alice.find_element(By.ID, "upload-status").get_attribute("class")

        # Screenshots: bob's window shows the highlighted mention and the camera.
        bob.execute_script("document.getElementById('say').blur();")
        bob.save_screenshot(os.path.join(out, "page.png"))
        alice.save_screenshot(os.path.join(out, "alice.png"))
        carol.save_screenshot(os.path.join(out, "carol.png"))
        checks["screenshot"] = os.path.getsize(os.path.join(out, "page.png")) > 0

        for nick, driver in browsers.items():
            console.extend(console_errors(driver, nick))
        result["ok"] = all(checks.values())
    except Exception as error:
        result["error"] = f"{error}"
        result["trace"] = traceback.format_exc()
        for nick, driver in browsers.items():
            try:
                driver.save_screenshot(os.path.join(out, f"failure-{nick}.png"))
                console.extend(console_errors(driver, nick))
            except Exception:
                pass
    finally:
        for driver in browsers.values():
            try:
                driver.quit()
            except Exception:
                pass
    print(json.dumps(result))
    return 0 if result["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
