"""Pictures in the JSON API (issue 21, point 3): POST /api/v1/images (multipart ``file``) uploads
to the fake WeCom over real HTTP once per file; refusals are 413/422 with words and no WeCom call;
GET /api/v1/images pages the library; both in openapi.json."""
import io

from dashboard.extensions import db
from dashboard.models import Image
from tests.test_api import api, app, fake  # noqa: F401  (fixtures: the app wired to the fake WeCom)
from tests.test_images import bomb, noisy_png, picture


def post(api, data: bytes, name="logo.png", role="staff", field="file"):
    return api("post", "/images", role, data={field: (io.BytesIO(data), name)},
               content_type="multipart/form-data")


def test_a_png_and_a_jpg_are_uploaded_and_kept(app, api, fake):
    for kind, name, content_type in (("PNG", "a.png", "image/png"), ("JPEG", "b.jpg", "image/jpeg")):
        data = picture(kind)
        answer = post(api, data, name)
        assert answer.status_code == 201, answer.json
        assert {k: answer.json[k] for k in ("width", "height", "bytes")} == {"width": 300, "height": 160,
                                                                             "bytes": len(data)}
        call = fake.calls("/media/uploadimg")[-1]
        assert (call.media, call.filename, call.content_type) == (data, name, content_type)
        assert fake.images[answer.json["url"]] == data
        with app.app_context():
            assert db.session.get(Image, answer.json["id"]).url == answer.json["url"]


def test_the_same_file_twice_is_one_wecom_call(api, fake):
    data = picture()
    first, second = post(api, data).json, post(api, data, "again.png")
    assert second.status_code == 201 and second.json["reused"] and second.json["id"] == first["id"]
    assert len(fake.calls("/media/uploadimg")) == 1


def test_over_2_mb_is_a_413_with_words_and_no_wecom_call(api, fake):
    for size in (3 * 1024 * 1024, 2 * 1024 * 1024 + 1):  # refused by Content-Length; after reading
        answer = post(api, noisy_png(size))
        assert answer.status_code == 413 and "2 MB" in answer.json["message"], answer.json
    assert not fake.calls("/media/uploadimg")


def test_a_bad_file_is_a_422_at_file_and_no_wecom_call(api, fake):
    for data, words in ((b"plain text", "not a JPG or PNG"), (picture()[:-30], "damaged"),
                        (bomb(), "too many pixels")):
        answer = post(api, data)
        assert answer.status_code == 422 and words in answer.json["message"]
        assert answer.json["errors"][0]["path"] == "file" and words in answer.json["errors"][0]["message"]
    assert post(api, picture(), field="picture").status_code == 422  # no ``file`` part
    assert not fake.calls("/media/uploadimg")


def test_wecoms_refusal_is_a_502_in_words(api, fake):
    fake.fail_next(40006, path="/media/uploadimg")
    answer = post(api, picture())
    assert answer.status_code == 502 and "at most 2 MB" in answer.json["message"]


def test_writers_upload_readers_may_not(api, fake):
    assert post(api, picture(), role="manager").status_code == 403
    assert api("get", "/images", "manager").status_code == 403
    assert post(api, picture(), role="admin").status_code == 201


def test_the_list_pages_newest_first(api, fake):
    for i in range(3):
        assert post(api, picture(color=(i, 0, 0)), f"p{i}.png").status_code == 201
    page = api("get", "/images?per_page=2").json
    assert [i["name"] for i in page["items"]] == ["p2.png", "p1.png"]
    assert (page["total"], page["page"], page["per_page"]) == (3, 1, 2)
    assert api("get", "/images?q=p0").json["items"][0]["uploaded_by"] == "staff"
    assert api("get", "/images?per_page=0").status_code == 422


def test_openapi_describes_the_upload_as_multipart(api):
    spec = api("get", "/openapi.json").json
    upload = spec["paths"]["/images"]["post"]
    media = upload["requestBody"]["content"]["multipart/form-data"]
    assert media["schema"] == {"$ref": "#/components/schemas/ImageUpload"}
    assert spec["components"]["schemas"]["ImageUpload"]["properties"]["file"]["format"] == "binary"
    assert {"201", "413", "422", "502"} <= set(upload["responses"]) and upload["x-roles"] == ["staff", "admin"]
    assert spec["paths"]["/images"]["get"]["responses"]["200"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/ImagePage"}
