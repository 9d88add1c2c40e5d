"""The access token shared across processes: clients with caches of their own (as in separate
processes) over one Redis or one database make one gettoken call between them."""
import threading
import time

import pytest
import redis

from dashboard import wecom_app
from dashboard.extensions import db
from dashboard.models import SharedValue
from dashboard.wecom.client import AccessToken, WeComClient
from dashboard.wecom_tokens import DatabaseTokenCache, ProcessTokenCache, RedisTokenCache
from tests.conftest import make_app
from tests.fake_wecom import FakeWeCom
from tests.servers import redis_server

CLIENTS = 6


@pytest.fixture
def fake():
    with FakeWeCom(latency=0.2) as fake:  # gettoken takes a while: the others must wait for it
        yield fake


@pytest.fixture(params=["redis", "database"])
def caches(request, tmp_path):
    """CLIENTS caches, each with its own Redis connection or its own app and database engine."""
    if request.param == "redis":
        url = request.getfixturevalue("redis_url")
        yield [RedisTokenCache(redis.Redis.from_url(url)) for _ in range(CLIENTS)]
        return
    apps = [make_app(tmp_path) for _ in range(CLIENTS)]
    yield [DatabaseTokenCache(app) for app in apps]
    for app in apps:
        with app.app_context():
            db.engine.dispose()


def clients(fake, caches):
    return [WeComClient(fake.corp_id, fake.secret, fake.agent_id, base_url=fake.base_url,
                        clock=time.time, token_cache=cache) for cache in caches]


def at_once(calls):
    """Run the calls in threads released together; their results in order."""
    start, results = threading.Barrier(len(calls)), [None] * len(calls)

    def run(i):
        start.wait()
        results[i] = calls[i]()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def test_clients_asking_at_once_share_one_gettoken(fake, caches):
    tokens = at_once([client.get_access_token for client in clients(fake, caches)])
    assert len(set(tokens)) == 1 and None not in tokens
    assert len(fake.calls("/gettoken")) == 1


@pytest.mark.parametrize("spoil", ["expired", "invalid"])
def test_a_rejected_token_is_renewed_once_for_everyone(fake, caches, spoil):
    group = clients(fake, caches)
    group[0].get_access_token()
    if spoil == "expired":
        fake.expire_tokens()  # 42001 on the next calls
    else:
        caches[0].set(group[0]._cache_key, AccessToken("never-issued", time.time() + 3600))  # 40014
    answers = at_once([client.list_tags for client in group])
    assert answers == [[{"tagid": 1, "tagname": "managers"}]] * CLIENTS
    assert len(fake.calls("/gettoken")) == 2


def test_discard_only_removes_the_token_it_names(caches):
    cache = caches[0]
    cache.set("k", AccessToken("new", time.time() + 60))
    cache.discard("k", "old")  # a stale rejection must not drop the renewed token
    assert cache.get("k").value == "new"
    cache.discard("k", "new")
    assert cache.get("k") is None


def test_a_lock_left_by_a_dead_process_expires(tmp_path):
    app = make_app(tmp_path)
    cache = DatabaseTokenCache(app)
    with app.app_context():
        db.session.add(SharedValue(name="k:lock", value="gone", expires_at=time.time() - 1))
        db.session.commit()
    with cache.lock("k"):
        with app.app_context():
            assert db.session.get(SharedValue, "k:lock").value != "gone"
    with app.app_context():
        assert db.session.get(SharedValue, "k:lock").value is None  # released
        db.engine.dispose()


@pytest.mark.parametrize("queue, kind", [("sqlite", DatabaseTokenCache), ("redis", RedisTokenCache)])
def test_the_app_shares_its_token_where_its_queue_is(tmp_path, request, queue, kind):
    url = request.getfixturevalue("redis_url") if queue == "redis" else None
    app = make_app(tmp_path, **({"TASK_QUEUE_URL": url} if url else {}))
    with app.app_context():
        cache = wecom_app.client().token_cache
        assert isinstance(cache, ProcessTokenCache) and isinstance(cache.shared, kind)
        assert wecom_app.client().clock is time.time
        db.engine.dispose()


def test_a_token_kept_in_the_process_outlives_a_redis_outage(fake, tmp_path):
    """Redis gone: the calls go on with the token this process holds (no gettoken, no Redis)."""
    with redis_server(tmp_path) as url:
        shared = RedisTokenCache(redis.Redis.from_url(url, socket_timeout=1, socket_connect_timeout=1))
        client = WeComClient(fake.corp_id, fake.secret, fake.agent_id, base_url=fake.base_url,
                             clock=time.time, token_cache=ProcessTokenCache(shared))
        client.list_department_ids()
    for _ in range(3):  # the server is stopped
        client.list_department_ids()
    assert len(fake.calls("/gettoken")) == 1


def test_a_process_that_needs_a_token_while_redis_is_down_fetches_and_keeps_its_own(fake, tmp_path):
    with redis_server(tmp_path) as url:
        shared = RedisTokenCache(redis.Redis.from_url(url, socket_timeout=1, socket_connect_timeout=1))
    client = WeComClient(fake.corp_id, fake.secret, fake.agent_id, base_url=fake.base_url,
                         clock=time.time, token_cache=ProcessTokenCache(shared))
    client.list_department_ids()  # no shared cache to read or lock: fetched here
    client.list_department_ids()  # and kept
    assert len(fake.calls("/gettoken")) == 1
