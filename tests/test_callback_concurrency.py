"""20 identical deliveries at the same moment, over real HTTP into a real SQLite file: stored once."""
import threading
from concurrent.futures import ThreadPoolExecutor

import requests
from werkzeug.serving import make_server

from tests.test_callback import callback_app, card_xml, counts, make_campaign, outcomes, signed


def test_twenty_identical_deliveries_from_parallel_threads_are_stored_once(tmp_path):
    app = callback_app(tmp_path)
    make_campaign(app, task_id="t-par")
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{server.server_port}/wecom/callback"
    query, body = signed(card_xml("t-par", selected={"q_lunch": ["opt_a", "opt_b"]}))
    start = threading.Barrier(20)

    def deliver(_):
        start.wait()
        return requests.post(url, params=query, data=body, timeout=10).status_code

    try:
        with ThreadPoolExecutor(20) as pool:
            statuses = list(pool.map(deliver, range(20)))
    finally:
        server.shutdown()
        thread.join(timeout=5)
    assert statuses == [200] * 20
    assert counts(app) == (1, 2, 1)
    logged = sorted(o for o, _, _ in outcomes(app))
    assert logged == ["duplicate"] * 19 + ["stored"]
