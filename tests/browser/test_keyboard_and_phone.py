"""Working without the mouse (j/k, Enter, /, ?, and never while typing) and on a 390 px phone:
one column, the list or the open conversation, and a way back to the list."""

import re

from playwright.sync_api import Browser, Page, expect

from devtools import demo
from tests.browser.conftest import AXE, System, axe_violations, screenshot, sign_in
from tests.browser.inbox_helpers import assign, many_conversations, new_conversation


def test_shortcuts_move_through_the_list_open_search_and_explain_themselves(
    page: Page, system: System, problems
) -> None:
    older, newer = sorted(many_conversations(system, 2), key=lambda c: c["last_activity_at"])
    assign(system, [older["id"], newer["id"]], user_id=demo.ADMIN_ID)
    sign_in(page)
    links = page.locator("#rows .row-link")
    expect(links.first).to_be_visible()

    page.keyboard.press("j")
    expect(links.nth(0)).to_be_focused()
    page.keyboard.press("j")
    expect(links.nth(1)).to_be_focused()
    page.keyboard.press("k")
    expect(links.nth(0)).to_be_focused()

    page.keyboard.press("?")
    dialog = page.get_by_role("dialog", name="Keyboard shortcuts")
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text("Next / previous conversation in the list")
    assert axe_violations(page) == []
    screenshot(page, "shortcuts")
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()

    page.keyboard.press("/")
    search = page.get_by_role("searchbox", name="Search customers and messages")
    expect(search).to_be_focused()
    page.keyboard.type("jk")  # typed into the box, not taken as shortcuts
    expect(search).to_have_value("jk")
    page.keyboard.press("Escape")
    expect(search).not_to_be_focused()

    page.goto("/conversations")
    page.keyboard.press("j")
    target = links.nth(0).get_attribute("href").split("?")[0]
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(re.escape(target)))


def test_on_a_phone_the_list_then_the_conversation_then_back(browser: Browser, system: System) -> None:
    (conversation,) = many_conversations(system, 1, "Sent from my phone")
    assign(system, [conversation["id"]], user_id=demo.ADMIN_ID)
    context = browser.new_context(base_url=system.web, viewport={"width": 390, "height": 844}, is_mobile=True)
    context.add_init_script(path=str(AXE))
    page = context.new_page()
    sign_in(page)

    row = page.locator("#rows .row").filter(has_text=conversation["customer_phone"])
    expect(row).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390  # nothing runs off the side
    expect(page.get_by_role("searchbox", name="Search customers and messages")).to_be_visible()
    expect(page.get_by_role("button", name=re.compile(r"^Notifications"))).to_be_visible()
    expect(page.locator("#conversation-pane")).to_be_hidden()
    assert axe_violations(page) == []
    screenshot(page, "inbox-phone")

    row.get_by_role("link").click()
    expect(page).to_have_url(re.compile(rf"/conversations/{conversation['id']}"))
    expect(page.locator("#conversation-list")).to_be_hidden()
    back = page.get_by_role("link", name=re.compile("Back to the list"))
    expect(back).to_be_visible()
    back.click()
    expect(page).to_have_url(re.compile(r"/conversations\?"))
    expect(row).to_be_visible()
    context.close()


def test_a_live_refresh_keeps_the_keyboard_on_the_same_conversation(
    page: Page, system: System, problems
) -> None:
    older, newer = sorted(many_conversations(system, 2), key=lambda c: c["last_activity_at"])
    assign(system, [older["id"], newer["id"]], user_id=demo.ADMIN_ID)
    sign_in(page, then="/conversations?view=all")
    expect(page.locator(f"#rows .row[data-conversation='{older['id']}']")).to_be_visible()
    page.keyboard.press("j")
    page.keyboard.press("j")
    on_row = "document.activeElement.closest('#rows [data-conversation]')?.dataset.conversation ?? null"
    focused = page.evaluate(on_row)
    assert focused is not None

    # A new text refreshes the list (its row comes in at the top): the focus stays on that row.
    number, _ = new_conversation(system, "A text while you browse")
    expect(page.locator("#rows .row").first).to_contain_text(number)
    expect(page.locator(f"#rows .row[data-conversation='{focused}'] .row-link")).to_be_focused()
