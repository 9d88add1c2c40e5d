"""media/uploadimg (素材管理 › 上传图片) against the fake WeCom over real HTTP on 127.0.0.1: the picture
leaves as multipart with its exact bytes, the URL comes back, refusals are ApiErrors in words."""
import io

import pytest
from PIL import Image

from dashboard.wecom.client import WeComClient
from dashboard.wecom.errors import ApiError, RetryableError
from tests.fake_wecom import FakeWeCom


def picture(kind: str, size=(40, 20)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(out, format=kind)
    return out.getvalue()


@pytest.fixture
def fake():
    with FakeWeCom() as fake:
        yield fake


@pytest.fixture
def client(fake):
    client = WeComClient(fake.corp_id, fake.secret, fake.agent_id, base_url=fake.base_url, timeout=(1, 2))
    yield client
    client.close()


@pytest.mark.parametrize("kind, filename, content_type", [
    ("PNG", "logo.png", "image/png"), ("JPEG", "photo.jpg", "image/jpeg")])
def test_a_picture_is_posted_as_multipart_with_its_exact_bytes(fake, client, kind, filename, content_type):
    data = picture(kind)
    url = client.upload_image(data, filename)
    call = fake.calls("/media/uploadimg")[-1]
    assert call.method == "POST" and call.query["access_token"].startswith("fake-token-")
    assert (call.media, call.filename, call.content_type) == (data, filename, content_type)
    assert url.startswith("http://p.qpic.cn/") and fake.images[url] == data


def test_the_type_comes_from_the_bytes_not_the_name(fake, client):
    client.upload_image(picture("JPEG"), "named-wrong.png")
    assert fake.calls("/media/uploadimg")[-1].content_type == "image/jpeg"


def test_a_file_that_is_no_picture_is_not_sent(fake, client):
    with pytest.raises(ValueError):
        client.upload_image(b"hello, not a picture", "note.png")
    assert not fake.calls("/media/uploadimg")


@pytest.mark.parametrize("errcode, words", [
    (40005, "upload a JPG or PNG picture"), (40006, "at most 2 MB"), (40009, "at most 2 MB")])
def test_wecoms_refusal_is_an_api_error_in_words(fake, client, errcode, words):
    fake.fail_next(errcode, path="/media/uploadimg")
    with pytest.raises(ApiError) as info:
        client.upload_image(picture("PNG"), "a.png")
    assert info.value.errcode == errcode and words in info.value.explanation


def test_an_expired_token_is_renewed_and_the_same_bytes_sent_again(fake, client):
    data = picture("PNG")
    client.upload_image(data, "a.png")
    fake.expire_tokens()
    client.upload_image(data, "b.png")
    calls = fake.calls("/media/uploadimg")
    assert len(calls) == 3 and calls[1].media == calls[2].media == data
    assert calls[1].query["access_token"] != calls[2].query["access_token"]


def test_a_lost_connection_is_retryable_and_names_no_token(fake, client):
    client.upload_image(picture("PNG"), "a.png")  # a token first
    fake.drop_next(path="/media/uploadimg")
    with pytest.raises(RetryableError) as info:
        client.upload_image(picture("PNG"), "a.png")
    assert "fake-token" not in str(info.value) and info.value.request_sent
