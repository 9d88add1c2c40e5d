"""Pictures in the designer (issue 21): upload by button and by drop into an image field, the URL
from the sandbox's own WeCom fills it and the preview shows the picture; a picture over 2 MB is
refused at the field before anything is sent; the library picker offers an upload for another field."""
import base64
import io
import re
import threading

import pytest
from PIL import Image
from playwright.sync_api import expect
from werkzeug.serving import make_server

from tests.e2e.test_designer import field, new_card

pytestmark = pytest.mark.e2e

SANDBOX_MEDIA = re.compile(r"^http://127\.0\.0\.1:\d+/sandbox/media/[^/]+\.png$")
LOADED = """(selector) => {
    const img = document.querySelector(selector);
    return Boolean(img) && img.complete && img.naturalWidth > 0;
}"""
DROP = """(zone, b64) => {
    const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
    const transfer = new DataTransfer();
    transfer.items.add(new File([bytes], 'dropped.png', {type: 'image/png'}));
    zone.dispatchEvent(new DragEvent('drop', {dataTransfer: transfer, bubbles: true, cancelable: true}));
}"""


def png(width: int, height: int, colour: tuple[int, int, int]) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), colour).save(buffer, "PNG")
    return buffer.getvalue()


@pytest.fixture
def site(app):
    """The app over real HTTP, playing its own WeCom: uploads land in the sandbox's media."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    base = f"http://127.0.0.1:{server.server_port}"
    app.config.update(DASHBOARD_URL=base, WECOM_API_BASE=f"{base}/sandbox/cgi-bin")
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield base
    server.shutdown()
    thread.join(timeout=5)


def image_field(page, path):
    return page.locator(f'.designer-image-field[data-image-path="{path}"]')


def include(page, block):
    switch = page.locator(f"#include-{block}")
    if not switch.is_checked():
        switch.check()


def uploads(page) -> list[str]:
    """The upload requests the page makes from now on."""
    seen = []
    page.on("request", lambda request: seen.append(request.url) if "/images/upload" in request.url else None)
    return seen


def choose_file(page, path, name, data):
    image_field(page, path).locator("input[type=file]").set_input_files(
        {"name": name, "mimeType": "image/png", "buffer": data})


def test_upload_and_drop_fill_the_card_image_and_the_preview_shows_it(page, site):
    new_card(page, site, "news_notice")
    include(page, "card_image")
    choose_file(page, "card_image.url", "wide.png", png(300, 100, (200, 30, 30)))
    url = field(page, "card_image.url")
    expect(url).to_have_value(SANDBOX_MEDIA)
    first = url.input_value()
    expect(page.get_by_test_id("payload-json")).to_contain_text(first)
    page.wait_for_function(LOADED, arg="#card-preview .wc-card-image img")
    assert page.locator("#card-preview .wc-card-image img").get_attribute("src") == first

    note = image_field(page, "card_image.url").locator(".designer-image-note")
    expect(note).to_contain_text("300×100 (ratio 3.00)")
    note.get_by_role("button", name="Set the aspect ratio to 2.24").click()
    expect(field(page, "card_image.aspect_ratio")).to_have_value("2.24")
    expect(page.get_by_test_id("payload-json")).to_contain_text('"aspect_ratio": 2.24')

    image_field(page, "card_image.url").evaluate(DROP, base64.b64encode(png(200, 100, (30, 30, 200))).decode())
    expect(url).not_to_have_value(first)
    expect(url).to_have_value(SANDBOX_MEDIA)
    dropped = url.input_value()
    expect(note).to_be_hidden()  # 2:1 fits a card image
    page.wait_for_function(f"""() => {{
        const img = document.querySelector('#card-preview .wc-card-image img');
        return Boolean(img) && img.src === {dropped!r} && img.complete && img.naturalWidth > 0;
    }}""")

    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.get_by_role("alert")).to_contain_text("Saved")
    page.reload()
    expect(field(page, "card_image.url")).to_have_value(dropped)
    expect(field(page, "card_image.aspect_ratio")).to_have_value("2.24")


def test_a_picture_over_2_mb_is_refused_at_the_field_without_uploading(page, site):
    new_card(page, site, "news_notice")
    include(page, "card_image")
    sent = uploads(page)
    choose_file(page, "card_image.url", "huge.png", b"\x89PNG\r\n\x1a\n" + bytes(3 * 1024 * 1024))
    error = image_field(page, "card_image.url").locator(".designer-image-error")
    expect(error).to_contain_text("at most 2 MB")
    assert sent == []
    expect(field(page, "card_image.url")).to_have_value("")

    choose_file(page, "card_image.url", "notes.png", b"these are notes, not a picture")  # the server's refusal
    expect(error).to_contain_text("not a JPG or PNG picture")  # the server's words, at the field
    assert len(sent) == 1
    expect(field(page, "card_image.url")).to_have_value("")


def test_the_library_offers_an_uploaded_picture_for_another_field(page, site):
    new_card(page, site, "news_notice")
    include(page, "card_image")
    choose_file(page, "card_image.url", "team-photo.png", png(260, 130, (30, 160, 60)))
    expect(field(page, "card_image.url")).to_have_value(SANDBOX_MEDIA)
    uploaded = field(page, "card_image.url").input_value()

    include(page, "source")
    image_field(page, "source.icon_url").get_by_role("button", name="Choose from library").click()
    picker = page.locator("#image-picker")
    expect(picker.get_by_role("button", name="team-photo.png")).to_contain_text("260×130")
    picker.get_by_label("Search pictures by name").fill("nothing-like-it")
    expect(picker.locator("#image-picker-status")).to_contain_text("No picture matches")
    picker.get_by_label("Search pictures by name").fill("team")
    picker.get_by_role("button", name="team-photo.png").click()
    expect(picker).to_be_hidden()
    expect(field(page, "source.icon_url")).to_have_value(uploaded)
    expect(image_field(page, "source.icon_url").locator(".designer-image-note")).to_contain_text("shown square")
    page.wait_for_function(LOADED, arg="#card-preview .wc-source-icon img")


def test_the_picture_tools_fit_a_phone_and_work_from_the_keyboard(browser, site):
    context = browser.new_context(viewport={"width": 375, "height": 740})
    page = context.new_page()
    page.set_default_timeout(10_000)
    try:
        new_card(page, site, "news_notice")
        include(page, "card_image")
        tools = image_field(page, "card_image.url")
        for name in ("Upload a picture", "Choose from library"):
            button = tools.get_by_role("button", name=name)
            button.scroll_into_view_if_needed()
            box = button.bounding_box()
            assert box["x"] >= 0 and box["x"] + box["width"] <= 375
        with page.expect_file_chooser() as chooser:
            tools.get_by_role("button", name="Upload a picture").focus()
            page.keyboard.press("Enter")
        chooser.value.set_files({"name": "key.png", "mimeType": "image/png", "buffer": png(180, 100, (90, 90, 90))})
        expect(field(page, "card_image.url")).to_have_value(SANDBOX_MEDIA)
    finally:
        context.close()
