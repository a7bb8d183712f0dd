import Foundation

/// The script that puts a bridge (`br-ex`) on a host with its port enslaved, persistently the
/// host's own way (systemd-networkd, ifupdown, network-scripts or NetworkManager keyfiles),
/// with the port's addresses and default route moved onto the bridge.
///
/// The script is idempotent and transactional: `check` says whether files and live state
/// match; `apply` backs up what it replaces, writes, activates, waits for the bridge and
/// rolls back on failure; `start` does the same detached (for when the port carries the
/// address Nimbus is connected through) and rolls back by itself unless `confirm` is run
/// (by a new SSH connection) within the deadline.
public struct BridgeTransaction: Sendable {
    public struct File: Sendable, Equatable {
        public var path: String
        public var content: String
        public var mode: String
    }

    public let bridge: String
    public let port: String?
    public let stack: HostFacts.NetworkStack
    /// Static addresses (`a.b.c.d/n`) the bridge gets.
    public let addresses: [String]
    public let dhcp: Bool
    public let gateway: String?
    public let mac: String?
    /// The port carries the address the deploy is connected through.
    public let carriesConnection: Bool

    public init(bridge spec: PreparationSettings.Bridge, facts: HostFacts) throws(PreparationError) {
        bridge = spec.name
        port = spec.port
        stack = facts.networkStack
        var source = facts.interface(spec.name)
        if let port = spec.port {
            guard let portFacts = facts.interface(port) else {
                let names = facts.interfaces.map(\.name).filter { $0 != "lo" }.joined(separator: ", ")
                throw PreparationError(
                    "interface \(port) (CONFIG_NEUTRON_OVS_BRIDGE_IFACES=\(spec.name):\(port)) does not exist on this host; it has \(names)"
                )
            }
            if let master = portFacts.master, master != spec.name {
                throw PreparationError("interface \(port) is already enslaved to \(master); free it or name another")
            }
            // Before the move the port holds the addresses; afterwards (a re-run) the bridge does.
            if portFacts.master != spec.name { source = portFacts }
            mac = portFacts.mac
        } else {
            mac = nil
        }
        let held = source?.addresses ?? []
        addresses = held.filter { !$0.dynamic }.map(\.cidr)
        dhcp = held.contains { $0.dynamic && $0.family == "inet" }
        let sourceName = source?.name
        gateway = facts.defaultRoutes.first { $0.device == sourceName || $0.device == spec.name }?.gateway
        carriesConnection =
            spec.port != nil
            && facts.connectedAddress.map { address in held.contains { $0.address == address } }
                ?? false
    }

    /// Distribution packages the configuration style needs.
    public var packages: [String] { stack == .ifupdown && port != nil ? ["bridge-utils"] : [] }

    // MARK: Files per configuration style

    public var files: [File] {
        switch stack {
        case .networkd: networkdFiles
        case .ifupdown: ifupdownFiles
        case .networkScripts: networkScriptsFiles
        case .networkManager: networkManagerFiles
        }
    }

    var networkdFiles: [File] {
        var netdev = ["[NetDev]", "Name=\(bridge)", "Kind=bridge"]
        if let mac { netdev.append("MACAddress=\(mac)") }
        var network = ["[Match]", "Name=\(bridge)", "", "[Network]"]
        network += addresses.map { "Address=\($0)" }
        if let gateway { network.append("Gateway=\(gateway)") }
        if dhcp { network.append("DHCP=ipv4") }
        network += ["LinkLocalAddressing=no", "ConfigureWithoutCarrier=yes"]
        var files = [
            File(path: "/etc/systemd/network/05-nimbus-\(bridge).netdev", content: Self.text(netdev), mode: "0644"),
            File(path: "/etc/systemd/network/05-nimbus-\(bridge).network", content: Self.text(network), mode: "0644"),
        ]
        if let port {
            let portFile = ["[Match]", "Name=\(port)", "", "[Network]", "Bridge=\(bridge)", "LinkLocalAddressing=no"]
            files.append(
                File(path: "/etc/systemd/network/05-nimbus-\(port).network", content: Self.text(portFile), mode: "0644")
            )
        }
        return files
    }

    var ifupdownFiles: [File] {
        var lines: [String] = []
        if let port { lines += ["auto \(port)", "iface \(port) inet manual", ""] }
        lines.append("auto \(bridge)")
        let method = dhcp ? "dhcp" : addresses.isEmpty ? "manual" : "static"
        lines.append("iface \(bridge) inet \(method)")
        if !dhcp, let first = addresses.first(where: { !$0.contains(":") }) {
            lines.append("    address \(first)")
            if let gateway { lines.append("    gateway \(gateway)") }
        }
        lines.append("    bridge_ports \(port ?? "none")")
        lines += ["    bridge_stp off", "    bridge_fd 0"]
        if let mac { lines.append("    bridge_hw \(mac)") }
        for extra in addresses.filter({ !$0.contains(":") }).dropFirst() {
            lines.append("    up ip addr add \(extra) dev \(bridge)")
        }
        return [File(path: "/etc/network/interfaces.d/nimbus-\(bridge)", content: Self.text(lines), mode: "0644")]
    }

    var networkScriptsFiles: [File] {
        var lines = ["DEVICE=\(bridge)", "TYPE=Bridge", "ONBOOT=yes", "NM_CONTROLLED=no", "DELAY=0", "STP=no"]
        if dhcp {
            lines.append("BOOTPROTO=dhcp")
        } else {
            lines.append("BOOTPROTO=none")
            for (index, address) in addresses.filter({ !$0.contains(":") }).enumerated() {
                let parts = address.split(separator: "/")
                let suffix = index == 0 ? "" : String(index)
                lines += ["IPADDR\(suffix)=\(parts[0])", "PREFIX\(suffix)=\(parts[1])"]
            }
            if let gateway { lines.append("GATEWAY=\(gateway)") }
        }
        if let mac { lines.append("MACADDR=\(mac)") }
        var files = [
            File(path: "/etc/sysconfig/network-scripts/ifcfg-\(bridge)", content: Self.text(lines), mode: "0644")
        ]
        if let port {
            var portLines = [
                "DEVICE=\(port)", "TYPE=Ethernet", "ONBOOT=yes", "NM_CONTROLLED=no", "BOOTPROTO=none",
                "BRIDGE=\(bridge)",
            ]
            if let mac { portLines.append("HWADDR=\(mac)") }
            files.append(
                File(path: "/etc/sysconfig/network-scripts/ifcfg-\(port)", content: Self.text(portLines), mode: "0644"))
        }
        return files
    }

    var networkManagerFiles: [File] {
        var lines = [
            "[connection]", "id=nimbus-\(bridge)", "type=bridge", "interface-name=\(bridge)", "autoconnect=true", "",
            "[bridge]", "stp=false",
        ]
        if let mac { lines.append("mac-address=\(mac)") }
        lines += ["", "[ipv4]"]
        if dhcp {
            lines.append("method=auto")
        } else if addresses.contains(where: { !$0.contains(":") }) {
            lines.append("method=manual")
            for (index, address) in addresses.filter({ !$0.contains(":") }).enumerated() {
                lines.append("address\(index + 1)=\(address)" + (index == 0 ? gateway.map { ",\($0)" } ?? "" : ""))
            }
        } else {
            lines.append("method=disabled")
        }
        lines += ["", "[ipv6]", "method=ignore"]
        let directory = "/etc/NetworkManager/system-connections"
        var files = [File(path: "\(directory)/nimbus-\(bridge).nmconnection", content: Self.text(lines), mode: "0600")]
        if let port {
            let portLines = [
                "[connection]", "id=nimbus-\(bridge)-port-\(port)", "type=ethernet", "interface-name=\(port)",
                "master=\(bridge)", "slave-type=bridge", "autoconnect=true", "autoconnect-priority=100",
            ]
            files.append(
                File(
                    path: "\(directory)/nimbus-\(bridge)-port-\(port).nmconnection", content: Self.text(portLines),
                    mode: "0600"))
        }
        return files
    }

    // MARK: Activation per configuration style

    /// Shell functions `activate`, `deactivate`, `extra_match`, `extra_install`, `extra_restore`.
    var hooks: String {
        switch stack {
        case .networkd:
            return """
                activate() {
                  networkctl reload || return 1
                  [ -z "$PORT" ] || { networkctl reconfigure "$PORT"; ip -4 addr flush dev "$PORT" scope global; }
                  networkctl reconfigure "$BR" 2>/dev/null || true
                }
                deactivate() {
                  ip link del "$BR" 2>/dev/null
                  networkctl reload
                  [ -z "$PORT" ] || networkctl reconfigure "$PORT"
                }
                extra_match() { :; }
                extra_install() { :; }
                extra_restore() { :; }

                """
        case .ifupdown:
            return """
                MAIN=/etc/network/interfaces
                activate() {
                  [ -z "$PORT" ] || { ifdown "$PORT" 2>/dev/null; ip -4 addr flush dev "$PORT" scope global; ifup "$PORT"; }
                  ifup "$BR"
                }
                deactivate() {
                  ifdown "$BR" 2>/dev/null; ip link del "$BR" 2>/dev/null
                  [ -z "$PORT" ] || ifup "$PORT"
                }
                # The port's own stanza in the main file is commented out (a backup is kept).
                extra_match() {
                  grep -qE '^[[:space:]]*source(-directory)?[[:space:]]+/etc/network/interfaces\\.d' "$MAIN" || return 1
                  [ -z "$PORT" ] || ! grep -qE "^[[:space:]]*(auto|allow-[a-z]+|iface)[[:space:]]+$PORT([[:space:]]|$)" "$MAIN"
                }
                extra_install() {
                  [ -e "$STATE.backup/interfaces" ] || cp -p "$MAIN" "$STATE.backup/interfaces" || return 1
                  awk -v port="$PORT" '
                    $1 ~ /^(auto|allow-[a-z]+)$/ { keep = ""; for (i = 2; i <= NF; i++) if ($i != port) keep = keep " " $i
                      if (keep != substr($0, length($1) + 1)) { print "# nimbus: " $0; if (keep != "") print $1 keep; next } }
                    $1 ~ /^(iface|mapping|source|source-directory|auto|allow-[a-z]+)$/ { skip = ($1 == "iface" && $2 == port) }
                    skip { print "# nimbus: " $0; next }
                    { print }
                    END { }' "$MAIN" > "$MAIN.nimbus-new" || return 1
                  grep -qE '^[[:space:]]*source(-directory)?[[:space:]]+/etc/network/interfaces\\.d' "$MAIN.nimbus-new" ||
                    echo 'source /etc/network/interfaces.d/*' >> "$MAIN.nimbus-new"
                  mv -f "$MAIN.nimbus-new" "$MAIN"
                }
                extra_restore() { [ -e "$STATE.backup/interfaces" ] && mv -f "$STATE.backup/interfaces" "$MAIN"; :; }

                """
        case .networkScripts:
            return """
                activate() {
                  [ -z "$PORT" ] || ifdown "$PORT" 2>/dev/null
                  ifup "$BR" || return 1
                  [ -z "$PORT" ] || ifup "$PORT"
                }
                deactivate() {
                  ifdown "$BR" 2>/dev/null; ip link del "$BR" 2>/dev/null
                  [ -z "$PORT" ] || { ifdown "$PORT" 2>/dev/null; ifup "$PORT"; }
                }
                extra_match() { :; }
                extra_install() { :; }
                extra_restore() { :; }

                """
        case .networkManager:
            return """
                activate() {
                  nmcli connection reload || return 1
                  nmcli connection up "nimbus-$BR" || return 1
                  [ -z "$PORT" ] || nmcli connection up "nimbus-$BR-port-$PORT"
                }
                deactivate() {
                  nmcli connection reload; ip link del "$BR" 2>/dev/null
                  [ -e "$STATE.backup/nm-old" ] && while read -r u; do nmcli connection up "$u"; done < "$STATE.backup/nm-old"; :
                }
                extra_match() { :; }
                # Other profiles of the port stop autoconnecting (restored on rollback).
                extra_install() {
                  [ -z "$PORT" ] && return 0
                  nmcli -t -f UUID,NAME,DEVICE connection show --active | while IFS=: read -r u n d; do
                    [ "$d" = "$PORT" ] && [ "$n" != "nimbus-$BR-port-$PORT" ] && echo "$u"
                  done >> "$STATE.backup/nm-old"
                  while read -r u; do nmcli connection modify "$u" connection.autoconnect no; done < "$STATE.backup/nm-old"
                }
                extra_restore() {
                  [ -e "$STATE.backup/nm-old" ] && while read -r u; do nmcli connection modify "$u" connection.autoconnect yes; done < "$STATE.backup/nm-old"; :
                }

                """
        }
    }

    // MARK: The script

    public func render() -> String {
        let style =
            switch stack {
            case .networkd: "systemd-networkd"
            case .ifupdown: "ifupdown (/etc/network/interfaces.d)"
            case .networkScripts: "network-scripts (ifcfg files)"
            case .networkManager: "NetworkManager keyfiles"
            }
        var wants = ""
        var list: [String] = []
        for (index, file) in files.enumerated() {
            wants += "  \(index + 1)) cat <<'NIMBUS_FILE'\n\(file.content)NIMBUS_FILE\n  ;;\n"
            list.append("\(index + 1):\(file.path):\(file.mode)")
        }
        return """
            #!/bin/sh
            \(HostPreparation.header)
            # \(bridge)\(port.map { " with \($0) enslaved" } ?? ""), configured with \(style).
            # sh \(bridge).sh check|apply|start|confirm|result  (start: apply detached; rolled back
            # by itself unless confirmed within $NIMBUS_BRIDGE_DEADLINE seconds)
            set -u
            BR=\(bridge)
            PORT=\(port ?? "")
            ADDRESSES='\(addresses.joined(separator: " "))'
            STATE=/var/lib/nimbus/bridges/\(bridge)
            DEADLINE=${NIMBUS_BRIDGE_DEADLINE:-45}
            FILES='\(list.joined(separator: " "))'
            want() {
              case "$1" in
            \(wants)  esac
            }

            \(hooks)\(Self.common)
            """
    }

    static let common = """
        files_match() {
          for f in $FILES; do
            n=${f%%:*}; r=${f#*:}; p=${r%:*}
            want "$n" | cmp -s - "$p" || return 1
          done
          extra_match
        }
        live_match() {
          [ -d "/sys/class/net/$BR/bridge" ] || return 1
          [ -z "$PORT" ] || [ "$(basename "$(readlink "/sys/class/net/$PORT/master" 2>/dev/null)")" = "$BR" ] || return 1
          for a in $ADDRESSES; do ip -o addr show dev "$BR" | grep -qF " $a " || return 1; done
        }
        install_files() {
          mkdir -p "$STATE.backup" || return 1
          for f in $FILES; do
            n=${f%%:*}; r=${f#*:}; p=${r%:*}; m=${r##*:}
            if [ -e "$STATE.backup/$n" ] || [ -e "$STATE.backup/$n.absent" ]; then :
            elif [ -e "$p" ]; then cp -p "$p" "$STATE.backup/$n" || return 1
            else : > "$STATE.backup/$n.absent"; fi
            mkdir -p "$(dirname "$p")" && want "$n" > "$p.nimbus-new" && chmod "$m" "$p.nimbus-new" &&
              mv -f "$p.nimbus-new" "$p" || return 1
          done
          extra_install
        }
        restore_files() {
          for f in $FILES; do
            n=${f%%:*}; r=${f#*:}; p=${r%:*}
            if [ -e "$STATE.backup/$n" ]; then mv -f "$STATE.backup/$n" "$p"
            elif [ -e "$STATE.backup/$n.absent" ]; then rm -f "$p"; fi
          done
          extra_restore
        }
        wait_live() {
          i=0
          while [ "$i" -lt "$1" ]; do live_match && return 0; sleep 0.5; i=$((i + 1)); done
          return 1
        }
        rollback() { restore_files; deactivate; rm -rf "$STATE.backup"; }
        mkdir -p "$(dirname "$STATE")"
        case "${1:-}" in
        check) files_match && live_match ;;
        apply)
          if install_files && activate >"$STATE.log" 2>&1 && wait_live 40; then rm -rf "$STATE.backup"; exit 0; fi
          echo "$BR did not come up with $ADDRESSES; the previous configuration is restored: $(tail -n 2 "$STATE.log" 2>/dev/null)" >&2
          rollback >>"$STATE.log" 2>&1; exit 1 ;;
        start)
          rm -f "$STATE.confirm" "$STATE.result"
          if command -v systemd-run >/dev/null 2>&1 && [ -d /run/systemd/system ]; then
            systemd-run --quiet --collect --unit="nimbus-bridge-$BR-$$" sh "$0" transaction
          else
            setsid sh "$0" transaction </dev/null >"$STATE.log" 2>&1 &
          fi
          echo "transaction started" ;;
        transaction)
          sleep 1
          if install_files && activate && wait_live 40; then
            i=0
            while [ "$i" -lt $((DEADLINE * 2)) ]; do
              if [ -e "$STATE.confirm" ]; then rm -rf "$STATE.backup"; echo committed > "$STATE.result"; exit 0; fi
              sleep 0.5; i=$((i + 1))
            done
            echo "not confirmed within $DEADLINE s" >&2
          fi
          rollback; echo "rolled back" > "$STATE.result"; exit 1 ;;
        confirm)
          touch "$STATE.confirm"
          i=0; while [ "$i" -lt 20 ] && [ ! -e "$STATE.result" ]; do sleep 0.5; i=$((i + 1)); done
          cat "$STATE.result" 2>/dev/null || echo pending ;;
        result) cat "$STATE.result" 2>/dev/null || echo pending ;;
        *) echo "usage: $0 check|apply|start|confirm|result" >&2; exit 2 ;;
        esac

        """

    static func text(_ lines: [String]) -> String { lines.joined(separator: "\n") + "\n" }
}
