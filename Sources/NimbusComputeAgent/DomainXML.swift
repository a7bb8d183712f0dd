/// The libvirt domain XML of an instance, as Nova's libvirt driver writes it for a
/// BIOS-booted x86 guest, minus what these hosts cannot honour: no `cputune` or `memtune`
/// (libvirt here runs with `cgroup_controllers = [ ]`), no disk cache mode (O_DIRECT is not
/// available on every filesystem the instances live on).
public enum DomainXML {
    /// The domain document of `spec`.
    public static func render(_ spec: DomainSpec) -> String {
        var devices = [
            """
                <disk type='file' device='disk'>
                  <driver name='qemu' type='qcow2'/>
                  <source file='\(escape(spec.disk))'/>
                  <target dev='vda' bus='virtio'/>
                </disk>
            """
        ]
        if let drive = spec.configDrive {
            devices.append(
                """
                    <disk type='file' device='cdrom'>
                      <driver name='qemu' type='raw'/>
                      <source file='\(escape(drive))'/>
                      <target dev='hdd' bus='ide'/>
                      <readonly/>
                    </disk>
                """)
        }
        for interface in spec.interfaces {
            devices.append(
                """
                    <interface type='ethernet'>
                      <mac address='\(escape(interface.mac))'/>
                      <target dev='\(escape(interface.tap))'/>
                      <model type='virtio'/>
                      <mtu size='\(interface.mtu)'/>
                    </interface>
                """)
        }
        devices.append(
            """
                <serial type='file'>
                  <source path='\(escape(spec.consoleLog))'/>
                  <target port='0'/>
                </serial>
                <memballoon model='virtio'/>
            """)
        // TCG's translation cache defaults to a quarter of the guest's RAM or more; 32 MiB
        // keeps a small guest's QEMU some 60 MiB lighter.
        let tcg =
            spec.virtType == .qemu ? "\n    <tcg>\n      <tb-cache unit='MiB'>32</tb-cache>\n    </tcg>" : ""
        return """
            <domain type='\(spec.virtType.rawValue)'>
              <name>\(escape(spec.name))</name>
              <uuid>\(escape(spec.uuid))</uuid>
              <title>\(escape(spec.title))</title>
              <memory unit='MiB'>\(spec.memoryMiB)</memory>
              <vcpu>\(spec.vcpus)</vcpu>
              <sysinfo type='smbios'>
                <system>
                  <entry name='manufacturer'>OpenStack Foundation</entry>
                  <entry name='product'>OpenStack Nova</entry>
                  <entry name='serial'>\(escape(spec.uuid))</entry>
                  <entry name='uuid'>\(escape(spec.uuid))</entry>
                  <entry name='family'>Virtual Machine</entry>
                </system>
              </sysinfo>
              <os>
                <type arch='x86_64' machine='pc'>hvm</type>
                <boot dev='hd'/>
                <smbios mode='sysinfo'/>
              </os>
              <features>
                <acpi/>
                <apic/>\(tcg)
              </features>
              <clock offset='utc'/>
              <on_poweroff>destroy</on_poweroff>
              <on_reboot>restart</on_reboot>
              <on_crash>destroy</on_crash>
              <devices>
            \(devices.joined(separator: "\n"))
              </devices>
            </domain>

            """
    }

    /// Text for an XML attribute or element.
    static func escape(_ text: String) -> String {
        var escaped = ""
        for character in text {
            switch character {
            case "&": escaped += "&amp;"
            case "<": escaped += "&lt;"
            case ">": escaped += "&gt;"
            case "'": escaped += "&apos;"
            case "\"": escaped += "&quot;"
            default: escaped.append(character)
            }
        }
        return escaped
    }
}
