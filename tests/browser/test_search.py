"""The search box in the top bar: results as the person types, grouped by what matched with the
matched part marked, the URL /search?q= pushed, `/` to get there, and a result opening its
conversation. What customers typed shows as text."""

import re
import secrets

import httpx
from playwright.sync_api import Page, expect

from tests.browser.conftest import System, axe_violations, screenshot, sign_in
from tests.browser.inbox_helpers import eventually, name_customer, new_conversation


def searchable(system: System, word: str) -> None:
    """Search indexes from the event stream: wait until the word is found."""
    token = system.token()

    def found() -> bool:
        answer = httpx.get(
            f"{system.services['search'].url}/api/v1/search",
            params={"q": word},
            headers={"authorization": f"Bearer {token}"},
            timeout=10,
        )
        return answer.status_code == 200 and bool(answer.json()["results"])

    eventually(found, timeout=30)


def test_typing_finds_message_words_and_phones_and_opens_the_conversation(
    page: Page, system: System, problems
) -> None:
    word = f"alternator{secrets.token_hex(3)}"
    number, conversation = new_conversation(system, f"The {word} light is on again")
    searchable(system, word)
    sign_in(page)

    page.keyboard.press("/")
    box = page.get_by_role("searchbox", name="Search customers and messages")
    expect(box).to_be_focused()
    box.press_sequentially(word[:-2], delay=20)
    box.press_sequentially(word[-2:], delay=20)
    expect(page).to_have_url(re.compile(rf"/search\?q={word}$"))
    messages = page.get_by_role("region", name=re.compile(r"^Messages"))
    expect(messages.locator("mark")).to_have_text(word)
    expect(messages).to_contain_text("light is on again")
    assert axe_violations(page) == []
    screenshot(page, "search")

    # A phone typed the way people write it finds the same customer, under Phone numbers.
    pretty = f"({number[2:5]}) {number[5:8]}-{number[8:]}"
    box.fill(pretty)
    phones = page.get_by_role("region", name=re.compile(r"^Phone numbers"))
    expect(phones).to_contain_text(pretty)
    expect(phones.locator("mark").first).to_be_visible()

    page.goto(f"/search?q={word}")  # the pushed URL works on its own (reload, shared link)
    page.get_by_role("region", name=re.compile(r"^Messages")).get_by_role("link").first.click()
    expect(page).to_have_url(re.compile(rf"/conversations/{conversation['id']}"))


def test_a_name_with_markup_is_shown_as_text(page: Page, system: System, problems) -> None:
    tag = secrets.token_hex(3)
    _, conversation = new_conversation(system, "hi")
    name_customer(system, conversation["customer_id"], f"Zed{tag}", "<img src=x onerror=alert(1)>")
    searchable(system, f"Zed{tag}")
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    sign_in(page, then=f"/search?q=Zed{tag}")

    names = page.get_by_role("region", name=re.compile(r"^Names"))
    expect(names).to_contain_text(f"Zed{tag} <img src=x onerror=alert(1)>")
    expect(names.locator("img")).to_have_count(0)
    expect(names.locator("mark")).to_have_text(f"Zed{tag}")

    page.goto("/conversations?view=all")
    row = page.locator("#rows .row").filter(has_text=f"Zed{tag}")
    expect(row).to_contain_text("<img src=x onerror=alert(1)>")
    expect(row.locator("img")).to_have_count(0)
    assert dialogs == []


def test_nothing_found_and_nothing_to_search(page: Page, system: System, problems) -> None:
    sign_in(page, then=f"/search?q=nosuchthing{secrets.token_hex(4)}")
    expect(page.get_by_role("status")).to_contain_text("Nothing matches")
    page.goto("/search?q=%21%21%21")
    expect(page.get_by_role("status")).to_contain_text("nothing to search for")
