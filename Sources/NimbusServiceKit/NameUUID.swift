import Crypto

/// A UUID that is a function of a name (version 5's layout over SHA-1): the same agent or
/// hypervisor gets the same id in every answer and after every restart.
public enum NameUUID {
    public static func make(_ name: String) -> String {
        var digest = Array(Insecure.SHA1.hash(data: Array(name.utf8)).prefix(16))
        digest[6] = (digest[6] & 0x0F) | 0x50
        digest[8] = (digest[8] & 0x3F) | 0x80
        let hex = digest.map { byte in
            let text = String(byte, radix: 16)
            return text.count == 1 ? "0" + text : text
        }.joined()
        let parts = [
            hex.prefix(8), hex.dropFirst(8).prefix(4), hex.dropFirst(12).prefix(4), hex.dropFirst(16).prefix(4),
            hex.dropFirst(20),
        ]
        return parts.joined(separator: "-")
    }
}
