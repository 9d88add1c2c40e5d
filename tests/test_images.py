"""Pictures for cards (issue 21): checked from their bytes before WeCom sees them, uploaded to the
fake WeCom over real HTTP as multipart, kept once (the same file is reused), listed for the
designer's picker and shown on the library page; the sandbox keeps and serves its own copies."""
import hashlib
import io
import os
import re
import struct
import threading
import zlib

import pytest
import requests
from PIL import Image as PILImage
from werkzeug.serving import make_server

from dashboard.auth import service as auth_service
from dashboard.extensions import db
from dashboard.images import service
from dashboard.models import AuditLog, Image, SandboxImage
from dashboard.sandbox import api as sandbox_api
from tests.campaign_factories import wired
from tests.conftest import PASSWORD, make_app
from tests.fake_wecom import FakeWeCom


def picture(kind: str = "PNG", size=(300, 160), color=(20, 120, 200)) -> bytes:
    out = io.BytesIO()
    PILImage.new("RGB", size, color).save(out, format=kind)
    return out.getvalue()


def bomb(width: int = 100_000, height: int = 100_000) -> bytes:
    """A PNG header claiming a huge canvas, with a few bytes of data: a decompression bomb."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\0" * 64))
            + chunk(b"IEND", b""))


def noisy_png(n_bytes: int) -> bytes:
    """A real PNG of at least ``n_bytes`` (random pixels do not compress)."""
    side = int((n_bytes / 3) ** 0.5) + 8
    out = io.BytesIO()
    PILImage.frombytes("RGB", (side, side), os.urandom(side * side * 3)).save(out, format="PNG")
    return out.getvalue()


@pytest.fixture
def fake():
    with FakeWeCom() as fake:
        yield fake


@pytest.fixture
def app(tmp_path, fake):
    with wired(tmp_path, fake) as app:
        yield app


def signed_in(app, role="staff"):
    client = app.test_client()
    assert client.post("/login", data={"username": role, "password": PASSWORD}).status_code == 302
    return client


def upload(client, data: bytes, name: str = "logo.png", **kwargs):
    return client.post("/images/upload", data={"file": (io.BytesIO(data), name)},
                       content_type="multipart/form-data", **kwargs)


@pytest.mark.parametrize("kind, name, content_type", [
    ("PNG", "logo.png", "image/png"), ("JPEG", "团队 photo.jpg", "image/jpeg")])
def test_a_picture_reaches_wecom_as_multipart_and_its_url_is_kept(app, fake, kind, name, content_type):
    data = picture(kind)
    answer = upload(signed_in(app), data, name)
    assert answer.status_code == 201, answer.json
    call = fake.calls("/media/uploadimg")[0]
    assert (call.media, call.content_type) == (data, content_type)
    body = answer.json
    assert body["url"] in fake.images and fake.images[body["url"]] == data
    assert {k: body[k] for k in ("width", "height", "bytes", "name", "reused")} == {
        "width": 300, "height": 160, "bytes": len(data), "name": name, "reused": False}
    with app.app_context():
        image = db.session.get(Image, body["id"])
        assert (image.url, image.content_type, image.uploaded_by.username) == (body["url"], content_type, "staff")
        assert image.sha256 == hashlib.sha256(data).hexdigest()
        assert db.session.scalar(db.select(AuditLog.action).filter_by(object_id=str(image.id),
                                                                      object_type="image")) == "image_uploaded"


def test_the_same_file_twice_is_one_wecom_call(app, fake):
    client, data = signed_in(app), picture()
    first = upload(client, data, "a.png").json
    second = upload(client, data, "b.png")
    assert second.status_code == 201 and second.json["reused"] is True
    assert second.json["id"] == first["id"] and second.json["url"] == first["url"]
    assert len(fake.calls("/media/uploadimg")) == 1
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(Image.id))) == 1


def test_a_3_mb_file_is_refused_before_it_is_read_or_sent(app, fake):
    answer = upload(signed_in(app), noisy_png(3 * 1024 * 1024), "big.png")
    assert answer.status_code == 413 and "2 MB" in answer.json["error"]
    assert not fake.calls("/media/uploadimg") and not fake.calls("/gettoken")


def test_a_file_just_over_2_mb_within_the_framing_allowance_is_refused_too(app, fake):
    data = noisy_png(2 * 1024 * 1024 + 1)
    assert len(data) <= 2 * 1024 * 1024 + 60 * 1024
    answer = upload(signed_in(app), data, "big.png")
    assert answer.status_code == 413 and "2 MB" in answer.json["error"]
    assert not fake.calls("/media/uploadimg")


def truncated_png() -> bytes:
    data = picture(size=(64, 64))
    return data[: len(data) - 30]


@pytest.mark.parametrize("data, name, words", [
    (b"Just some text, not a picture.\n" * 20, "notes.png", "not a JPG or PNG"),
    (b"GIF89a" + b"\0" * 100, "anim.gif", "not a JPG or PNG"),
    (truncated_png(), "cut.png", "damaged or cut short"),
    (picture("JPEG")[:200], "cut.jpg", "damaged or cut short"),
    (bomb(), "bomb.png", "too many pixels"),
    (bomb(8000, 6000), "big-canvas.png", "too many pixels"),  # 48 M: over the limit, under Pillow's 2x
])
def test_a_bad_file_is_a_422_in_words_and_wecom_is_not_called(app, fake, data, name, words):
    answer = upload(signed_in(app), data, name)
    assert answer.status_code == 422 and words in answer.json["error"], answer.json
    assert not fake.calls("/media/uploadimg")
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(Image.id))) == 0


def test_no_file_is_a_422(app, fake):
    answer = signed_in(app).post("/images/upload", data={}, content_type="multipart/form-data")
    assert answer.status_code == 422 and "Choose a JPG or PNG" in answer.json["error"]


def test_wecoms_refusal_is_shown_in_words_and_nothing_is_kept(app, fake):
    fake.fail_next(40005, path="/media/uploadimg")
    answer = upload(signed_in(app), picture())
    assert answer.status_code == 502
    assert answer.json["error"] == ("WeCom refused the picture: WeCom refused the file's type: upload a "
                                    "JPG or PNG picture.")
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(Image.id))) == 0


def test_staff_and_admins_upload_managers_may_not_anonymous_sign_in(app, fake):
    assert upload(signed_in(app, "admin"), picture()).status_code == 201
    assert upload(signed_in(app, "manager"), picture(color=(1, 2, 3))).status_code == 403
    assert signed_in(app, "manager").get("/images/list").status_code == 403
    assert signed_in(app, "manager").get("/images/").status_code == 403
    anonymous = app.test_client()
    assert upload(anonymous, picture(color=(4, 5, 6))).status_code == 302
    assert anonymous.get("/images/list").status_code == 302
    assert len(fake.calls("/media/uploadimg")) == 1


def csrf_of(page: str) -> str:
    return re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', page).group(1)


def test_csrf_is_enforced_and_the_designers_header_passes(tmp_path, fake):
    with wired(tmp_path, fake, WTF_CSRF_ENABLED=True) as app:
        client = app.test_client()
        token = csrf_of(client.get("/login").get_data(as_text=True))
        client.post("/login", data={"username": "staff", "password": PASSWORD, "csrf_token": token})
        refused = upload(client, picture(), headers={"Accept": "application/json"})
        assert refused.status_code == 400 and "CSRF" in refused.json["message"]
        assert not fake.calls("/media/uploadimg")
        token = csrf_of(client.get("/images/").get_data(as_text=True))
        answer = upload(client, picture(), headers={"X-CSRFToken": token})
        assert answer.status_code == 201, answer.get_data(as_text=True)


def test_the_list_is_newest_first_filtered_by_name(app, fake):
    client = signed_in(app)
    for i, name in enumerate(["banner.png", "logo.png", "Logo-dark.jpg"]):
        assert upload(client, picture("JPEG" if name.endswith("jpg") else "PNG", color=(i, i, i)), name).status_code == 201
    items = client.get("/images/list").json["items"]
    assert [i["name"] for i in items] == ["Logo-dark.jpg", "logo.png", "banner.png"]
    assert set(items[0]) == {"id", "url", "name", "width", "height", "bytes", "uploaded_at", "uploaded_by"}
    assert items[0]["uploaded_by"] == "staff"
    assert [i["name"] for i in client.get("/images/list?q=LOGO").json["items"]] == ["Logo-dark.jpg", "logo.png"]
    assert client.get("/images/list?q=%25").json["items"] == []  # % is a character, not a wildcard


def test_a_file_name_is_never_a_path(app, fake):
    answer = upload(signed_in(app), picture(), "../../etc/pass\x07wd.png")
    assert answer.status_code == 201 and answer.json["name"] == "passwd.png"
    assert fake.calls("/media/uploadimg")[0].filename == "passwd.png"


def test_the_library_page_shows_the_pictures_and_uploads_with_a_form(app, fake):
    client = signed_in(app)
    answer = client.post("/images/", data={"file": (io.BytesIO(picture()), "hero.png")},
                         content_type="multipart/form-data")
    assert answer.status_code == 302
    page = client.get("/images/").get_data(as_text=True)
    url = fake.calls("/media/uploadimg") and next(iter(fake.images))
    assert "hero.png" in page and f'src="{url}"' in page and "300 × 160" in page and "staff" in page
    assert "uploaded to WeCom" in page
    refused = client.post("/images/", data={"file": (io.BytesIO(b"text"), "x.png")},
                          content_type="multipart/form-data", follow_redirects=True)
    assert "not a JPG or PNG" in refused.get_data(as_text=True)
    big = client.post("/images/", data={"file": (io.BytesIO(noisy_png(3 * 1024 * 1024)), "big.png")},
                      content_type="multipart/form-data", follow_redirects=True)
    assert "larger than 2 MB" in big.get_data(as_text=True) and len(fake.calls("/media/uploadimg")) == 1
    assert 'href="/images/"' in client.get("/cards/").get_data(as_text=True)  # in the navigation


def test_inspect_reads_kind_and_size():
    assert service.inspect(picture("JPEG", (33, 44))) == service.Inspected("jpeg", 33, 44)
    assert service.inspect(picture("PNG", (5, 6))).content_type == "image/png"


# --- the sandbox ---------------------------------------------------------------------------------


@pytest.fixture
def sandbox_app(tmp_path):
    app = make_app(tmp_path)
    with app.app_context():
        auth_service.create_user("staff", "staff", PASSWORD, actor="test")
        db.session.commit()
    yield app
    with app.app_context():
        db.engine.dispose()


@pytest.mark.parametrize("kind, ext, content_type", [("PNG", "png", "image/png"), ("JPEG", "jpg", "image/jpeg")])
def test_the_sandbox_keeps_the_picture_and_serves_it_as_an_image(sandbox_app, kind, ext, content_type):
    server = make_server("127.0.0.1", 0, sandbox_app, threaded=True)
    base = f"http://127.0.0.1:{server.server_port}"
    sandbox_app.config.update(DASHBOARD_URL=base, WECOM_API_BASE=f"{base}/sandbox/cgi-bin")
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        data = picture(kind)
        answer = upload(signed_in(sandbox_app), data, f"x.{ext}")
        assert answer.status_code == 201, answer.json
        url = answer.json["url"]
        assert url.startswith(f"{base}/sandbox/media/") and url.endswith(f".{ext}")
        served_ = requests.get(url, timeout=5)  # public: no sign-in, as WeCom's CDN
        assert served_.status_code == 200 and served_.content == data
        assert served_.headers["Content-Type"] == content_type
        assert served_.headers["X-Content-Type-Options"] == "nosniff"
        assert "max-age=31536000" in served_.headers["Cache-Control"]
        other = "jpg" if ext == "png" else "png"
        assert requests.get(url.removesuffix(ext) + other, timeout=5).status_code == 404
        assert requests.get(f"{base}/sandbox/media/nothing.png", timeout=5).status_code == 404
        with sandbox_app.app_context():
            assert db.session.scalar(db.select(SandboxImage.data)) == data
    finally:
        server.shutdown()
        thread.join(timeout=5)


def test_the_sandbox_refuses_what_wecom_refuses(sandbox_app):
    client = sandbox_app.test_client()
    with sandbox_app.app_context():
        token = sandbox_api.gettoken({"corpid": sandbox_app.config["WECOM_CORP_ID"],
                              "corpsecret": sandbox_app.config["WECOM_SECRET"]}, 7200)["access_token"]
        db.session.commit()

    def post(files):
        return client.post(f"/sandbox/cgi-bin/media/uploadimg?access_token={token}", data=files,
                           content_type="multipart/form-data").json
    assert post({"media": (io.BytesIO(b"hello"), "a.png")})["errcode"] == 40005
    assert post({"other": (io.BytesIO(picture()), "a.png")})["errcode"] == 41005
    assert post({"media": (io.BytesIO(picture()), "a.png")})["errcode"] == 0
    nobody = client.post("/sandbox/cgi-bin/media/uploadimg", data={"media": (io.BytesIO(picture()), "a.png")},
                         content_type="multipart/form-data").json
    assert nobody["errcode"] == 41001
