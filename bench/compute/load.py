#!/usr/bin/env python3
"""The load of bench/compute.sh, against a deployed cloud (OS_* in the environment, the
admin's keystonerc), each server on int1 with class1 and the key pair bench-key:

    load.py sequential IMAGE FLAVOR N
        N servers one after another: POST /servers → ACTIVE (GET every 50 ms), then
        DELETE → 404. The first boot of an image on a host includes its download.
    load.py concurrent IMAGE FLAVOR N LISTS
        N servers created at once (as Rally's concurrency N): each POST → ACTIVE; then LISTS
        GET /servers/detail with them there; then all deleted.
    load.py ssh IMAGE FLAVOR KEYFILE
        One server with a floating IP on ext1: POST → ACTIVE → the first successful
        `ssh cirros@<floating IP> true` (the guest boots under TCG here); then deleted.

Prints RESULT lines (milliseconds).
"""
import math
import re
import statistics
import subprocess
import sys
import threading
import time

from keystoneauth1 import loading, session


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


HEADERS = {"OpenStack-API-Version": "compute 2.96"}


def find(sess, service, path, key, name):
    answer = sess.get(path, endpoint_filter={"service_type": service}).json()[key]
    return next(item["id"] for item in answer if item["name"] == name)


def create(sess, image, flavor, network, group, name):
    body = {"server": {"name": name, "imageRef": image, "flavorRef": flavor, "key_name": "bench-key",
                       "networks": [{"uuid": network}], "security_groups": [{"name": group}]}}
    started = time.monotonic()
    answer = sess.post("/servers", json=body, headers=HEADERS, endpoint_filter={"service_type": "compute"})
    return answer.json()["server"]["id"], started


def wait_active(sess, server, started):
    while True:
        status = sess.get(f"/servers/{server}", headers=HEADERS,
                          endpoint_filter={"service_type": "compute"}).json()["server"]["status"]
        if status == "ACTIVE":
            return (time.monotonic() - started) * 1000
        if status == "ERROR":
            raise SystemExit(f"server {server} went to ERROR")
        time.sleep(0.05)


def delete(sess, server):
    started = time.monotonic()
    sess.delete(f"/servers/{server}", headers=HEADERS, endpoint_filter={"service_type": "compute"})
    while sess.get(f"/servers/{server}", headers=HEADERS, endpoint_filter={"service_type": "compute"},
                   raise_exc=False).status_code != 404:
        time.sleep(0.05)
    return (time.monotonic() - started) * 1000


def setup(sess, image_name, flavor_name):
    image = find(sess, "image", "/v2/images", "images", image_name)
    flavor = find(sess, "compute", "/flavors", "flavors", flavor_name)
    network = find(sess, "network", "/v2.0/networks", "networks", "int1")
    group = find(sess, "network", "/v2.0/security-groups", "security_groups", "class1")
    return image, flavor, network, group


def guest(keyfile, address, command):
    return subprocess.run(
        ["ssh", "-i", keyfile, "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null",
         "-o", "ConnectTimeout=5", "-o", "BatchMode=yes", f"cirros@{address}", command],
        capture_output=True, text=True)


def timed(command):
    """A guest command timed by the guest's own clock (/proc/uptime, 10 ms steps: the
    guest's busybox dd prints no summary)."""
    return (f"a=$(cut -d' ' -f1 /proc/uptime); {command} >/dev/null 2>&1; b=$(cut -d' ' -f1 /proc/uptime);"
            " awk -v a=$a -v b=$b 'BEGIN {print \"elapsed\", b - a}'")


def dd_seconds(output):
    match = re.search(r"elapsed ([0-9.]+)", output)
    return max(float(match.group(1)), 0.01) if match else float("nan")


def attach_volume(sess, server, keyfile, address):
    """A 1 GiB volume: create → available, attach → in-use and /dev/vdb in the guest,
    64 MiB written (fsync) and read (caches dropped) on it and on the guest's own disk,
    detach → gone from the guest. None when the cloud has no block storage."""
    volumes = {"service_type": "block-storage"}
    try:
        started = time.monotonic()
        made = sess.post("/volumes", endpoint_filter=volumes, json={"volume": {"size": 1, "name": "bench-vol"}},
                         raise_exc=False)
    except Exception:
        return None
    if made.status_code != 202:
        return None
    volume = made.json()["volume"]["id"]
    def status():
        return sess.get(f"/volumes/{volume}", endpoint_filter=volumes).json()["volume"]["status"]
    while status() != "available":
        time.sleep(0.02)
    created = (time.monotonic() - started) * 1000
    compute = {"service_type": "compute"}
    started = time.monotonic()
    sess.post(f"/servers/{server}/os-volume_attachments", endpoint_filter=compute,
              headers={"OpenStack-API-Version": "compute 2.89"},
              json={"volumeAttachment": {"volumeId": volume, "device": None}})
    seen = None
    while seen is None or status() != "in-use":
        if seen is None and guest(keyfile, address, "test -b /dev/vdb").returncode == 0:
            seen = (time.monotonic() - started) * 1000
        if time.monotonic() - started > 120:
            raise SystemExit("the volume was not attached within 120 s")
        time.sleep(0.05)
    in_use = (time.monotonic() - started) * 1000
    figures = {"create_ms": created, "attach_seen_ms": seen, "attach_in_use_ms": in_use}
    drop = "sync; echo 3 | sudo tee /proc/sys/vm/drop_caches >/dev/null"
    for name, target in [("volume", "/dev/vdb"), ("local", "/home/cirros/bench.img")]:
        write = guest(keyfile, address, timed(f"sudo dd if=/dev/zero of={target} bs=1M count=64 conv=fsync"))
        read = guest(keyfile, address, f"{drop}; " + timed(f"sudo dd if={target} of=/dev/null bs=1M count=64"))
        figures[f"{name}_write_mib_s"] = 64 / dd_seconds(write.stdout)
        figures[f"{name}_read_mib_s"] = 64 / dd_seconds(read.stdout)
    guest(keyfile, address, "rm -f /home/cirros/bench.img")
    started = time.monotonic()
    sess.delete(f"/servers/{server}/os-volume_attachments/{volume}", endpoint_filter=compute)
    while guest(keyfile, address, "test -b /dev/vdb").returncode == 0 or status() != "available":
        time.sleep(0.05)
    figures["detach_ms"] = (time.monotonic() - started) * 1000
    sess.delete(f"/volumes/{volume}", endpoint_filter=volumes)
    return figures


def main():
    mode, image_name, flavor_name = sys.argv[1:4]
    sess = cloud()
    image, flavor, network, group = setup(sess, image_name, flavor_name)
    if mode == "sequential":
        count = int(sys.argv[4])
        actives, deletes = [], []
        for index in range(count):
            server, started = create(sess, image, flavor, network, group, f"bench-seq-{index}")
            actives.append(wait_active(sess, server, started))
            deletes.append(delete(sess, server))
        print(f"RESULT sequential first_active_ms={actives[0]:.0f} "
              f"cached_active_p50_ms={statistics.median(actives[1:] or actives):.0f} "
              f"cached_active_max_ms={max(actives[1:] or actives):.0f} "
              f"boot_delete_p50_ms={statistics.median(a + d for a, d in zip(actives, deletes)):.0f} "
              f"delete_p50_ms={statistics.median(deletes):.0f}")
    elif mode == "concurrent":
        count, lists = int(sys.argv[4]), int(sys.argv[5])
        results, errors = [], []

        def one(index):
            try:
                server, started = create(sess, image, flavor, network, group, f"bench-con-{index}")
                results.append((server, wait_active(sess, server, started)))
            except BaseException as error:  # noqa: BLE001 - reported below
                errors.append(error)

        threads = [threading.Thread(target=one, args=(index,)) for index in range(count)]
        started = time.monotonic()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        if errors:
            raise SystemExit(f"concurrent boots failed: {errors}")
        everything = (time.monotonic() - started) * 1000
        samples = []
        for _ in range(lists):
            begun = time.monotonic()
            sess.get("/servers/detail", headers=HEADERS, endpoint_filter={"service_type": "compute"})
            samples.append((time.monotonic() - begun) * 1000)
        for server, _ in results:
            delete(sess, server)
        actives = [active for _, active in results]
        print(f"RESULT concurrent n={count} active_p50_ms={statistics.median(actives):.0f} "
              f"active_max_ms={max(actives):.0f} all_active_ms={everything:.0f} "
              f"list_detail_p50_ms={statistics.median(samples):.1f} list_detail_p95_ms={percentile(samples, 0.95):.1f}")
    elif mode == "ssh":
        keyfile = sys.argv[4]
        server, started = create(sess, image, flavor, network, group, "bench-ssh")
        active = wait_active(sess, server, started)
        ports = sess.get(f"/v2.0/ports?device_id={server}", endpoint_filter={"service_type": "network"}).json()
        external = find(sess, "network", "/v2.0/networks", "networks", "ext1")
        floating = sess.post("/v2.0/floatingips", endpoint_filter={"service_type": "network"}, json={
            "floatingip": {"floating_network_id": external, "port_id": ports["ports"][0]["id"]}}).json()["floatingip"]
        address = floating["floating_ip_address"]
        while True:
            done = subprocess.run(
                ["ssh", "-i", keyfile, "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null",
                 "-o", "ConnectTimeout=2", "-o", "BatchMode=yes", f"cirros@{address}", "true"],
                capture_output=True)
            if done.returncode == 0:
                break
            if time.monotonic() - started > 300:
                raise SystemExit(f"no ssh to {address} within 300 s: {done.stderr.decode()}")
            time.sleep(0.2)
        to_ssh = (time.monotonic() - started) * 1000
        volume = attach_volume(sess, server, keyfile, address)
        delete(sess, server)
        sess.delete(f"/v2.0/floatingips/{floating['id']}", endpoint_filter={"service_type": "network"})
        print(f"RESULT ssh active_ms={active:.0f} ssh_ms={to_ssh:.0f}")
        if volume:
            print("RESULT volume " + " ".join(f"{key}={value:.0f}" for key, value in volume.items()))


if __name__ == "__main__":
    main()
