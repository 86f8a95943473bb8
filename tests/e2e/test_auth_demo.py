"""The demo's accounts and notes in a real browser, through the Vite dev server (:3000):
sign up, notes (create, edit, delete after a confirmation), sign out, sign in, password
reset with the console email backend, the 404 page. Screenshots of the pages go to
target/screenshots/. The session cookie must stay HttpOnly the whole way: signing in
over the WebSocket hands the session to Django, which sets the cookie."""

from __future__ import annotations

import quopri
import re
import secrets
from urllib.parse import urlsplit

from playwright.sync_api import Page, expect

from e2e_support import screenshot, wait_for

PASSWORD = "a long passphrase 1"


def new_username() -> str:
    return "e2e" + secrets.token_hex(4)


def session_cookies(page: Page) -> list[dict]:
    return [c for c in page.context.cookies() if c["name"] == "sessionid"]


def sign_up(page: Page, base: str, username: str, email: str = "") -> None:
    page.goto(f"{base}/")
    expect(page.locator("#signed-in-as")).to_have_text("anonymous")
    page.click("#nav-sign-up")
    page.wait_for_url(re.compile(r"/register$"))
    page.fill("#register-username", username)
    page.fill("#register-email", email)
    page.fill("#register-password1", PASSWORD)
    page.fill("#register-password2", PASSWORD)
    page.click("#register-submit")


def sign_in(page: Page, username: str, password: str) -> None:
    page.fill("#login-username", username)
    page.fill("#login-password", password)
    page.click("#login-submit")


def assert_httponly_session(page: Page) -> None:
    [cookie] = session_cookies(page)
    assert cookie["httpOnly"] is True, cookie
    assert cookie["sameSite"] == "Lax", cookie
    assert "sessionid" not in page.evaluate("document.cookie")


def test_sign_up_notes_sign_out_sign_in(stack, page: Page) -> None:
    base = stack.app_url
    username = new_username()
    sign_up(page, base, username)
    # Signed in: the hand-off view set the cookie, the notes page reconnected with it.
    page.wait_for_url(re.compile(r"/notes$"))
    expect(page.locator("#nav-user")).to_have_text(username)
    expect(page.locator("#nav-sign-in")).to_have_count(0)
    assert_httponly_session(page)

    # No notes yet: the page says so, and what to do, until there is one.
    expect(page.locator("#notes-empty")).to_contain_text("No notes yet")
    screenshot(page, "notes-empty")
    page.fill("#note-title", "first note")
    page.fill("#note-content", "written in a browser")
    page.click("#note-add")
    note = page.locator(".note", has_text="first note")
    expect(note).to_have_count(1)
    expect(page.locator("#notes-empty")).to_have_count(0)
    expect(page.locator("#note-title")).to_have_value("")
    expect(note.locator(".note-created")).to_have_text(re.compile(r"\d{4}"))  # the year

    note.locator(".note-edit").click()
    expect(page.locator("#note-edit-title")).to_have_value("first note")
    page.fill("#note-edit-title", "first note, edited")
    page.click("#note-save")
    expect(page.locator(".note-title")).to_have_text(["first note, edited"])

    page.click("#note-add")  # no title: a field error, no note
    expect(page.locator("#note-title-error")).to_be_visible()
    expect(page.locator(".note")).to_have_count(1)
    page.fill("#note-title", "second note")
    page.fill("#note-content", "newest first")
    page.click("#note-add")
    expect(page.locator(".note-title")).to_have_text(["second note", "first note, edited"])
    screenshot(page, "notes")

    # Delete asks first; Cancel keeps the note.
    edited = page.locator(".note", has_text="first note, edited")
    edited.locator(".note-delete").click()
    expect(page.locator("#delete-question")).to_have_text("“first note, edited” will be gone for good.")
    screenshot(page, "notes-delete-confirm")
    page.click("#delete-cancel")
    expect(page.locator("#delete-question")).to_have_count(0)
    expect(page.locator(".note")).to_have_count(2)
    edited.locator(".note-delete").click()
    page.click("#delete-confirm")
    expect(page.locator(".note-title")).to_have_text(["second note"])
    page.locator(".note-delete").click()
    page.click("#delete-confirm")
    expect(page.locator(".note")).to_have_count(0)
    expect(page.locator("#notes-empty")).to_be_visible()

    page.click("#sign-out")
    page.wait_for_url(re.compile(r"/$"))
    expect(page.locator("#signed-in-as")).to_have_text("anonymous")
    expect(page.locator("#nav-sign-in")).to_be_visible()
    expect(page.locator("#nav-user")).to_have_count(0)
    assert session_cookies(page) == []
    screenshot(page, "home-signed-out")

    # The notes page sends anonymous visitors to sign in, and back afterwards.
    page.goto(f"{base}/notes")
    page.wait_for_url(re.compile(r"/login\?next=%2Fnotes$"))
    sign_in(page, username, "not the password")
    expect(page.locator("#login-error")).to_be_visible()
    assert session_cookies(page) == []
    screenshot(page, "sign-in-error")
    sign_in(page, username, PASSWORD)
    page.wait_for_url(re.compile(r"/notes$"))
    expect(page.locator("#nav-user")).to_have_text(username)
    assert_httponly_session(page)
    page.click("#nav-home")
    page.wait_for_url(re.compile(r"/$"))
    expect(page.locator("#signed-in-as")).to_have_text(username)
    expect(page.locator("#note-count")).to_have_text("0 notes")
    screenshot(page, "home-signed-in")


def test_an_unknown_path_shows_the_404_page(stack, page: Page) -> None:
    page.goto(f"{stack.app_url}/no/such/page")
    expect(page.locator("#not-found")).to_contain_text("Page not found")
    expect(page.locator("#nav-sign-in")).to_be_visible()  # the nav bar is there too
    screenshot(page, "not-found")
    page.locator("#not-found").get_by_role("link").click()
    page.wait_for_url(re.compile(r"/$"))
    expect(page.locator("#signed-in-as")).to_have_text("anonymous")


def test_users_only_see_their_own_notes(stack, page: Page) -> None:
    base = stack.app_url
    sign_up(page, base, new_username())
    page.wait_for_url(re.compile(r"/notes$"))
    page.fill("#note-title", "private")
    page.click("#note-add")
    expect(page.locator(".note", has_text="private")).to_have_count(1)

    other = page.context.browser.new_context().new_page()
    try:
        sign_up(other, base, new_username())
        other.wait_for_url(re.compile(r"/notes$"))
        expect(other.locator("#nav-user")).not_to_have_text("")
        expect(other.locator(".note")).to_have_count(0)
    finally:
        other.context.close()


def test_password_reset_with_the_console_email_backend(stack, page: Page) -> None:
    base = stack.app_url
    username = new_username()
    sign_up(page, base, username, email=f"{username}@example.com")
    page.wait_for_url(re.compile(r"/notes$"))
    page.click("#sign-out")
    page.wait_for_url(re.compile(r"/$"))

    page.goto(f"{base}/password-reset")
    page.fill("#reset-email", f"{username}@example.com")
    page.click("#reset-submit")
    expect(page.locator("#reset-sent")).to_be_visible()
    path = reset_link_path(stack, username)

    page.goto(base + path)
    page.fill("#reset-confirm-password1", "a new passphrase 2")
    page.fill("#reset-confirm-password2", "a new passphrase 2")
    page.click("#reset-confirm-submit")
    expect(page.locator("#reset-confirm-done")).to_be_visible()
    page.goto(base + path)  # a link works once
    expect(page.locator("#reset-confirm-error")).to_be_visible()

    page.goto(f"{base}/login")
    sign_in(page, username, "a new passphrase 2")
    page.wait_for_url(re.compile(r"/notes$"))
    expect(page.locator("#nav-user")).to_have_text(username)


def reset_link_path(stack, username: str) -> str:
    """The path of the reset link in the email the console backend printed (the
    message is quoted-printable encoded; the log lines carry a child prefix)."""

    def find() -> str | None:
        lines = [line.split("│ ", 1)[-1] for line in stack.log().splitlines()]
        text = quopri.decodestring("\n".join(lines).encode()).decode(errors="replace")
        mail = text[text.rfind(f"Hello {username},") :]
        match = re.search(r"https?://\S+/password-reset/confirm/\S+", mail)
        return urlsplit(match.group(0)).path if match else None

    return wait_for(find, 20, "the password reset email in the run output")
