#!/usr/bin/env python3
"""The load of bench/network.sh, in three subcommands:

    load.py api URL TOKEN PROJECT NETWORKS PORTS LISTS IDS
        API latency over one keep-alive connection (http.client): NETWORKS network creates,
        as many subnet creates (a DHCP /24 on each, which also makes its DHCP port), PORTS
        port creates on one more network (a /22), LISTS lists of all ports with those
        existing. Writes what it made to the file IDS. Prints one RESULT line per phase.
    load.py delete URL TOKEN IDS
        Deletes every port, then every network, of IDS (latency too); fails if any is left.
    load.py wire URL TOKEN NETWORK HOST ITERATIONS
        Port create → leased: POST a port, PUT its binding:host_id to HOST, make a netns
        (nb-vm-<i>, nb-vm) with a veth whose host end is the port's tap and whose other
        end (eth0) has the port's MAC, then get a DHCP lease in the namespace (a minimal
        client on a raw socket opened in the namespace: a DISCOVER every 50 ms, so the
        client's back-off is not what is measured), check it with busybox udhcpc, and
        wait for the API to show the port ACTIVE (first sequence). Twice ITERATIONS ports:
        the tap right after the binding, then 0.5 s after it. Prints one WIRE line per
        port (milliseconds from the POST); the ports are deleted at the end.
"""
import ctypes
import http.client
import json
import math
import os
import random
import select
import socket
import statistics
import struct
import subprocess
import sys
import threading
import time
import urllib.parse
import uuid


def percentile(samples, fraction):
    ordered = sorted(samples)
    return ordered[max(0, math.ceil(fraction * len(ordered)) - 1)]


class API:
    """One keep-alive connection to the network API with an admin token."""

    def __init__(self, url, token):
        parsed = urllib.parse.urlsplit(url)
        self.host, self.port = parsed.hostname, parsed.port
        self.token = token
        self.connection = http.client.HTTPConnection(self.host, self.port, timeout=30)

    def call(self, method, path, body=None, expect=(200, 201, 204)):
        headers = {"X-Auth-Token": self.token, "Accept": "application/json"}
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        started = time.perf_counter()
        self.connection.request(method, path, body=data, headers=headers)
        response = self.connection.getresponse()
        payload = response.read()
        elapsed = (time.perf_counter() - started) * 1000
        if response.status not in expect:
            raise SystemExit(f"{method} {path}: {response.status} {payload[:400]!r}")
        return elapsed, (json.loads(payload) if payload else None), len(payload)


def report(name, samples, extra=""):
    print(
        f"RESULT {name} n={len(samples)} p50={statistics.median(samples):.2f} "
        f"p99={percentile(samples, 0.99):.2f} mean={statistics.fmean(samples):.2f} "
        f"max={max(samples):.2f}{extra}",
        flush=True,
    )


def api_phase(url, token, project, networks, ports, lists, ids):
    api = API(url, token)
    # Neutron's default quotas (100 networks, 500 ports) are below this load.
    api.call("PUT", f"/v2.0/quotas/{project}", {"quota": {"network": -1, "subnet": -1, "port": -1}})
    created, times = [], []
    for i in range(networks):
        elapsed, body, _ = api.call("POST", "/v2.0/networks", {"network": {"name": f"nb-net-{i}"}})
        times.append(elapsed)
        created.append(body["network"]["id"])
    report("network_create", times)
    times = []
    for i, network in enumerate(created):
        elapsed, _, _ = api.call(
            "POST",
            "/v2.0/subnets",
            {"subnet": {"name": f"nb-sub-{i}", "network_id": network, "ip_version": 4,
                        "cidr": f"10.{230 + i // 256}.{i % 256}.0/24"}},
        )
        times.append(elapsed)
    report("subnet_create", times)
    _, body, _ = api.call("POST", "/v2.0/networks", {"network": {"name": "nb-list"}})
    listed = body["network"]["id"]
    created.append(listed)
    api.call("POST", "/v2.0/subnets",
             {"subnet": {"name": "nb-list", "network_id": listed, "ip_version": 4, "cidr": "10.232.0.0/22"}})
    port_ids, times = [], []
    for i in range(ports):
        elapsed, body, _ = api.call("POST", "/v2.0/ports", {"port": {"network_id": listed, "name": f"nb-port-{i}"}})
        times.append(elapsed)
        port_ids.append(body["port"]["id"])
    report("port_create", times)
    times, count, size = [], 0, 0
    for _ in range(lists):
        elapsed, body, size = api.call("GET", "/v2.0/ports")
        times.append(elapsed)
        count = len(body["ports"])
    report("port_list", times, f" ports={count} bytes={size}")
    with open(ids, "w") as file:
        json.dump({"networks": created, "ports": port_ids}, file)


def delete_phase(url, token, ids):
    api = API(url, token)
    with open(ids) as file:
        made = json.load(file)
    port_ids, created = made["ports"], made["networks"]
    times = []
    for port in port_ids:
        times.append(api.call("DELETE", f"/v2.0/ports/{port}")[0])
    report("port_delete", times)
    times = []
    for network in created:
        times.append(api.call("DELETE", f"/v2.0/networks/{network}")[0])
    report("network_delete", times)
    _, body, _ = api.call("GET", "/v2.0/networks")
    left = [n for n in body["networks"] if n["name"].startswith("nb-")]
    if left:
        raise SystemExit(f"{len(left)} networks left after the deletes")


def run(*command, stdin=None):
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL, input=stdin, text=True)


libc = ctypes.CDLL(None, use_errno=True)
CLONE_NEWNET = 0x40000000


def packet_socket(namespace, interface):
    """A raw socket on an interface of another network namespace: this thread enters the
    namespace (setns), opens and binds the socket, which stays there, and comes back."""
    home = os.open("/proc/thread-self/ns/net", os.O_RDONLY)
    target = os.open(f"/run/netns/{namespace}", os.O_RDONLY)
    try:
        if libc.setns(target, CLONE_NEWNET) != 0:
            raise OSError(ctypes.get_errno(), f"setns {namespace}")
        try:
            sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x0800))
            sock.bind((interface, 0x0800))
        finally:
            if libc.setns(home, CLONE_NEWNET) != 0:
                raise OSError(ctypes.get_errno(), "setns back")
    finally:
        os.close(target)
        os.close(home)
    return sock


def lease(sock, mac_text, tap, timeout):
    """DISCOVER every 50 ms until an OFFER, then REQUEST (again from DISCOVER after 0.5 s
    without an answer, or a NAK) until the ACK; meanwhile, every 2 ms, whether the tap has
    a master yet. The times (wall clock) and the address; no "ack" without a lease."""
    mac = bytes.fromhex(mac_text.replace(":", ""))
    xid = int.from_bytes(os.urandom(4), "big")
    master = f"/sys/class/net/{tap}/master"
    result = {"plugged": None, "discover": None, "offer": None, "discovers": 0}
    deadline = time.time() + timeout
    next_discover, requesting = 0.0, None
    while time.time() < deadline:
        now = time.time()
        if requesting is None and now >= next_discover:
            sock.send(dhcp_frame(mac, xid, 1))
            result["discovers"] += 1
            result["discover"] = result["discover"] or now
            next_discover = now + 0.05
        if requesting is not None and now > requesting:
            requesting, next_discover = None, 0.0
        ready, _, _ = select.select([sock], [], [], 0.002)
        if result["plugged"] is None and os.path.exists(master):
            result["plugged"] = time.time()
        if not ready:
            continue
        reply = dhcp_reply(sock.recv(2048), xid)
        if reply is None:
            continue
        kind, address, server = reply
        if kind == 2 and requesting is None:
            result["offer"] = time.time()
            sock.send(dhcp_frame(mac, xid, 3, requested=address, server=server))
            requesting = time.time() + 0.5
        elif kind == 5 and requesting is not None:
            result.update(ack=time.time(), address=address)
            if result["plugged"] is None and os.path.exists(master):
                result["plugged"] = time.time()
            return result
        elif kind == 6:
            requesting, next_discover = None, 0.0
    return result


class StatusWatch(threading.Thread):
    """Notes when the API first shows each watched port ACTIVE: one list of the instances'
    ports every 50 ms, on a connection of its own."""

    def __init__(self, url, token):
        super().__init__(daemon=True)
        self.api = API(url, token)
        self.lock = threading.Lock()
        self.watched, self.active = set(), {}
        self.done = threading.Event()

    def watch(self, port):
        with self.lock:
            self.watched.add(port)

    def run(self):
        while not self.done.is_set():
            _, body, _ = self.api.call("GET", "/v2.0/ports?device_owner=compute:nova&fields=id&fields=status")
            now = time.time()
            with self.lock:
                for port in body["ports"]:
                    if port["status"] == "ACTIVE" and port["id"] in self.watched and port["id"] not in self.active:
                        self.active[port["id"]] = now
            time.sleep(0.05)

    def wait(self, ports, timeout):
        deadline = time.time() + timeout
        while time.time() < deadline:
            with self.lock:
                if all(port in self.active for port in ports):
                    break
            time.sleep(0.05)
        self.done.set()
        self.join()
        return self.active


def wire_once(api, network, host, namespace, delay, label):
    """One port: POST, PUT binding, (delay,) the instance's veth, the lease, the stock
    client's check. The times, in seconds after the POST was sent."""
    t0 = time.time()
    _, body, _ = api.call("POST", "/v2.0/ports", {"port": {
        "network_id": network, "name": f"nb-{label}", "device_owner": "compute:nova",
        "device_id": str(uuid.uuid4())}})
    port = body["port"]
    mac, address = port["mac_address"], port["fixed_ips"][0]["ip_address"]
    tap = "tap" + port["id"][:11]
    api.call("PUT", f"/v2.0/ports/{port['id']}", {"port": {"binding:host_id": host}})
    t_bound = time.time()
    time.sleep(delay)
    # What Nova and libvirt would do: the instance's interface, its tap on the host.
    run("ip", "-batch", "-", stdin=f"netns add {namespace}\nlink add {tap} type veth peer name eth0 "
        f"address {mac} netns {namespace}\nlink set {tap} up\n")
    run("ip", "-n", namespace, "link", "set", "eth0", "up")
    t_veth = time.time()
    sock = packet_socket(namespace, "eth0")
    got = lease(sock, mac, tap, 15)
    sock.close()
    if "ack" not in got:
        plugged = "never" if got["plugged"] is None else f"{(got['plugged'] - t0) * 1000:.0f} ms after the POST"
        raise SystemExit(f"{label}: no lease for port {port['id']} ({address}, {mac}) in 15 s: tap {tap} plugged "
                         f"{plugged}, {got['discovers']} DISCOVERs, OFFER {'yes' if got['offer'] else 'none'}")
    if got["address"] != address:
        raise SystemExit(f"{label}: leased {got['address']}, the port has {address}")
    # The stock client gets the same lease, now that the port is wired.
    started = time.time()
    check = subprocess.run(
        ["ip", "netns", "exec", namespace, "busybox", "udhcpc", "-f", "-q", "-n", "-t", "5", "-T", "1",
         "-i", "eth0", "-s", "/bin/true"], capture_output=True, text=True, timeout=30)
    t_busybox = time.time() - started
    if check.returncode != 0 or f"lease of {address} obtained" not in check.stdout + check.stderr:
        raise SystemExit(f"{label}: busybox udhcpc: {check.stdout + check.stderr}")
    return {"port": port["id"], "t0": t0, "bound": t_bound, "veth": t_veth, "plugged": got["plugged"],
            "discover": got["discover"], "offer": got["offer"], "leased": got["ack"],
            "discovers": got["discovers"], "busybox": t_busybox}


def print_wire(sequence, i, record, active=None):
    def ms(t):
        return "-" if t is None else f"{(t - record['t0']) * 1000:.0f}"

    print(f"WIRE seq={sequence} i={i} port={record['port']} bound={ms(record['bound'])} veth={ms(record['veth'])} "
          f"plugged={ms(record['plugged'])} discover={ms(record['discover'])} offer={ms(record['offer'])} "
          f"leased={ms(record['leased'])} discovers={record['discovers']} "
          f"busybox={record['busybox'] * 1000:.0f} active={ms(active)}", flush=True)


def wire_phase(url, token, network, host, iterations):
    api = API(url, token)
    # Sequence "now": the tap right after the binding; each port (in nb-vm-<i>) stays until
    # the API shows it ACTIVE. One port a second, so that the ports meet the agent's poll
    # (2 s) and heartbeat at every point of their cycles.
    watch = StatusWatch(url, token)
    watch.start()
    records = []
    for i in range(iterations):
        started = time.time()
        record = wire_once(api, network, host, f"nb-vm-{i}", 0, f"vm-now-{i}")
        watch.watch(record["port"])
        records.append(record)
        time.sleep(max(0, 1 - (time.time() - started)))
    active = watch.wait([r["port"] for r in records], 15)
    for i, record in enumerate(records):
        print_wire("now", i, record, active.get(record["port"]))
        run("ip", "netns", "del", f"nb-vm-{i}")
    time.sleep(1)
    # Sequence "later": the tap 0.5 s after the binding, once the agent has handled it (an
    # instance's tap appears when its domain starts); netns nb-vm, deleted each time.
    # No port is deleted before the end: the gateway's dnsmasq keeps a deleted port's lease
    # (nothing releases it), and refuses that address to the next port IPAM gives it to.
    for i in range(iterations):
        record = wire_once(api, network, host, "nb-vm", 0.5, f"vm-later-{i}")
        records.append(record)
        print_wire("later", i, record)
        run("ip", "netns", "del", "nb-vm")
        # A pause of random length: the agent polls every 2 s, and ports at a steady pace
        # would each meet the poll at the same point of its cycle.
        time.sleep(random.uniform(0, 2.5))
    for record in records:
        api.call("DELETE", f"/v2.0/ports/{record['port']}")


def checksum(data):
    if len(data) % 2:
        data += b"\0"
    total = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def dhcp_frame(mac, xid, message, requested=None, server=None):
    options = bytes([53, 1, message])
    if requested:
        options += bytes([50, 4]) + socket.inet_aton(requested)
    if server:
        options += bytes([54, 4]) + socket.inet_aton(server)
    options += bytes([55, 5, 1, 3, 6, 26, 121, 255])
    bootp = struct.pack("!BBBBIHH4s4s4s4s16s64s128sI", 1, 1, 6, 0, xid, 0, 0x8000, bytes(4), bytes(4), bytes(4),
                        bytes(4), mac + bytes(10), bytes(64), bytes(128), 0x63825363) + options
    udp = struct.pack("!HHHH", 68, 67, 8 + len(bootp), 0) + bootp
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 0, 0, 64, 17, 0, bytes(4), b"\xff" * 4)
    ip = ip[:10] + struct.pack("!H", checksum(ip)) + ip[12:]
    return b"\xff" * 6 + mac + b"\x08\x00" + ip + udp


def dhcp_reply(frame, xid):
    """(message type, your address, server id) of a BOOTREPLY for xid, else None."""
    if len(frame) < 14 + 20 + 8 + 240 or frame[12:14] != b"\x08\x00" or frame[23] != 17:
        return None
    ihl = (frame[14] & 0x0F) * 4
    udp = 14 + ihl
    if struct.unpack("!H", frame[udp + 2:udp + 4])[0] != 68:
        return None
    bootp = frame[udp + 8:]
    if bootp[0] != 2 or struct.unpack("!I", bootp[4:8])[0] != xid:
        return None
    yiaddr = socket.inet_ntoa(bootp[16:20])
    options, at, kind, server = bootp[240:], 0, None, None
    while at < len(options) and options[at] != 255:
        code = options[at]
        if code == 0:
            at += 1
            continue
        length = options[at + 1]
        value = options[at + 2:at + 2 + length]
        if code == 53:
            kind = value[0]
        elif code == 54:
            server = socket.inet_ntoa(value)
        at += 2 + length
    return kind, yiaddr, server


if __name__ == "__main__":
    mode = sys.argv[1]
    if mode == "api":
        url, token, project, networks, ports, lists, ids = sys.argv[2:9]
        api_phase(url, token, project, int(networks), int(ports), int(lists), ids)
    elif mode == "delete":
        delete_phase(*sys.argv[2:5])
    elif mode == "wire":
        url, token, network, host, iterations = sys.argv[2:7]
        wire_phase(url, token, network, host, int(iterations))
    else:
        sys.exit(__doc__)
