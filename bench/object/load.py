#!/usr/bin/env python3
"""Many small objects against a Swift v1 endpoint: PUT or GET `count` objects of `size`
bytes named obj-00000…, from `concurrency` threads, each with one keep-alive connection.
Prints objects per second. Used by bench/object.sh for Nimbus and for OpenStack Swift alike.

    load.py put|get STORAGE_URL TOKEN CONTAINER COUNT SIZE CONCURRENCY
"""
import http.client
import sys
import threading
import time
import urllib.parse

mode, url, token, container, count, size, concurrency = sys.argv[1:8]
count, size, concurrency = int(count), int(size), int(concurrency)
parsed = urllib.parse.urlsplit(url)
body = bytes(i % 251 for i in range(size))
errors = []


def worker(first, step):
    connection = http.client.HTTPConnection(parsed.hostname, parsed.port, timeout=60)
    for index in range(first, count, step):
        path = f"{parsed.path}/{container}/obj-{index:05d}"
        headers = {"X-Auth-Token": token}
        if mode == "put":
            headers["Content-Length"] = str(size)
            connection.request("PUT", path, body=body, headers=headers)
        else:
            connection.request("GET", path, headers=headers)
        response = connection.getresponse()
        data = response.read()
        if response.status not in (200, 201) or (mode == "get" and len(data) != size):
            errors.append(f"{response.status} {path} {data[:300]}")
    connection.close()


threads = [threading.Thread(target=worker, args=(i, concurrency)) for i in range(concurrency)]
started = time.monotonic()
for thread in threads:
    thread.start()
for thread in threads:
    thread.join()
elapsed = time.monotonic() - started
if errors:
    print(f"{len(errors)} errors, first: {errors[0]}", file=sys.stderr)
    sys.exit(1)
print(f"{count / elapsed:.0f}")
