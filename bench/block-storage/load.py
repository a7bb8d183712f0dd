#!/usr/bin/env python3
"""The load of bench/block-storage.sh, against a deployed cloud (OS_* in the environment,
the admin's keystonerc):

    load.py volumes N
        N 1 GiB volumes one after another: POST /volumes → available (GET every 20 ms);
        a snapshot of each → available; a 2 GiB volume from that snapshot → available;
        then everything deleted → 404. Then N volumes created at once → available.
        Then 50 GET /volumes/detail with them there.

Prints one RESULT line (milliseconds).
"""
import math
import statistics
import sys
import threading
import time

from keystoneauth1 import loading, session

HEADERS = {"OpenStack-API-Version": "volume 3.71"}
SNAPSHOT_HEADERS = {"OpenStack-API-Version": "volume 3.65"}


def percentile(samples, fraction):
    ordered = sorted(samples)
    return ordered[max(0, math.ceil(fraction * len(ordered)) - 1)]


def cloud():
    import os

    loader = loading.get_plugin_loader("password")
    auth = loader.load_from_options(
        auth_url=os.environ["OS_AUTH_URL"], username=os.environ["OS_USERNAME"],
        password=os.environ["OS_PASSWORD"], project_name=os.environ["OS_PROJECT_NAME"],
        user_domain_name=os.environ.get("OS_USER_DOMAIN_NAME", "Default"),
        project_domain_name=os.environ.get("OS_PROJECT_DOMAIN_NAME", "Default"))
    return session.Session(auth=auth)


def call(sess, method, path, **kwargs):
    return sess.request(path, method, endpoint_filter={"service_type": "block-storage"}, raise_exc=False,
                        **kwargs)


def wait(sess, path, key, started, wanted="available"):
    while True:
        answer = call(sess, "GET", path, headers=HEADERS)
        status = answer.json()[key]["status"]
        if status == wanted:
            return (time.monotonic() - started) * 1000
        if status.startswith("error"):
            raise SystemExit(f"{path} went to {status}")
        time.sleep(0.02)


def volume(sess, body):
    started = time.monotonic()
    answer = call(sess, "POST", "/volumes", json={"volume": body}, headers=HEADERS)
    if answer.status_code != 202:
        raise SystemExit(f"POST /volumes: {answer.status_code} {answer.text}")
    identifier = answer.json()["volume"]["id"]
    return identifier, wait(sess, f"/volumes/{identifier}", "volume", started)


def gone(sess, path):
    while call(sess, "GET", path, headers=HEADERS).status_code != 404:
        time.sleep(0.02)


def main():
    count = int(sys.argv[2])
    sess = cloud()
    created, snapshotted, copied = [], [], []
    for index in range(count):
        vol, took = volume(sess, {"size": 1, "name": f"bench-{index}"})
        created.append(took)
        started = time.monotonic()
        answer = call(sess, "POST", "/snapshots", json={"snapshot": {"volume_id": vol, "name": f"snap-{index}"}},
                      headers=SNAPSHOT_HEADERS)
        snap = answer.json()["snapshot"]["id"]
        snapshotted.append(wait(sess, f"/snapshots/{snap}", "snapshot", started))
        copy, took = volume(sess, {"size": 2, "snapshot_id": snap, "name": f"copy-{index}"})
        copied.append(took)
        for path in [f"/volumes/{copy}", f"/snapshots/{snap}", f"/volumes/{vol}"]:
            call(sess, "DELETE", path, headers=HEADERS)
            gone(sess, path)
    results = [None] * count

    def one(index):
        results[index] = volume(sess, {"size": 1, "name": f"together-{index}"})

    threads = [threading.Thread(target=one, args=(index,)) for index in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    together = [took for _, took in results]
    lists = []
    for _ in range(50):
        started = time.monotonic()
        call(sess, "GET", "/volumes/detail", headers=HEADERS)
        lists.append((time.monotonic() - started) * 1000)
    for identifier, _ in results:
        call(sess, "DELETE", f"/volumes/{identifier}", headers=HEADERS)
    print(f"RESULT volumes={count} create_available_p50_ms={statistics.median(created):.0f}"
          f" create_available_p95_ms={percentile(created, 0.95):.0f}"
          f" snapshot_available_p50_ms={statistics.median(snapshotted):.0f}"
          f" from_snapshot_available_p50_ms={statistics.median(copied):.0f}"
          f" together_available_p50_ms={statistics.median(together):.0f}"
          f" list_detail_p50_ms={statistics.median(lists):.1f}")


if __name__ == "__main__":
    main()
