import NimbusServiceKit

/// What `nft -j list ruleset` says of the tables, their sets and maps (with elements) and
/// their chains (with each rule's comment). The agents never compare rule text with what
/// they wrote (nft prints rules back in other words): they compare elements, chain names
/// and the fingerprint comment they put on a chain's first rule.
public struct NftRuleset: Sendable, Equatable {
    /// A table by family and name (`inet nimbus_sg`).
    public struct TableID: Sendable, Hashable, CustomStringConvertible {
        /// `bridge`, `inet`, `ip`…
        public var family: String
        /// The table's name.
        public var name: String

        /// The table `name` of `family`.
        public init(_ family: String, _ name: String) {
            self.family = family
            self.name = name
        }

        /// As nft writes it (`inet nimbus_sg`).
        public var description: String { "\(family) \(name)" }
    }

    /// A set's or map's element: its key and, in a map, its value, both as text (a verdict
    /// reads `jump in_1`; a number in decimal).
    public struct Element: Sendable, Hashable {
        /// The key (an interface name, an address, a number).
        public var key: String
        /// A map's value; nil in a set.
        public var value: String?

        /// An element.
        public init(key: String, value: String? = nil) {
            self.key = key
            self.value = value
        }
    }

    /// One table's content.
    public struct Table: Sendable, Equatable {
        /// Sets and maps by name.
        public var sets: [String: [Element]] = [:]
        /// Chains by name, each with its rules' comments in order (nil: no comment).
        public var chains: [String: [String?]] = [:]

        /// An empty table.
        public init() {}
    }

    /// Every table.
    public var tables: [TableID: Table] = [:]

    /// An empty ruleset.
    public init() {}

    /// Reads `nft -j list ruleset`.
    public init(json: JSON) {
        for object in json["nftables"]?.array ?? [] {
            if let table = object["table"], let id = Self.id(table) {
                if tables[id] == nil { tables[id] = Table() }
            } else if let set = object["set"] ?? object["map"], let id = Self.id(set, nameKey: "table"),
                let name = set["name"]?.string
            {
                let elements = set["elem"].map { $0.array ?? [$0] } ?? []
                tables[id, default: Table()].sets[name] = elements.map(Self.element)
            } else if let chain = object["chain"], let id = Self.id(chain, nameKey: "table"),
                let name = chain["name"]?.string
            {
                tables[id, default: Table()].chains[name, default: []] = []
            } else if let rule = object["rule"], let id = Self.id(rule, nameKey: "table"),
                let chain = rule["chain"]?.string
            {
                tables[id, default: Table()].chains[chain, default: []].append(rule["comment"]?.string)
            }
        }
    }

    static func id(_ object: JSON, nameKey: String = "name") -> TableID? {
        guard let family = object["family"]?.string, let name = object[nameKey]?.string else { return nil }
        return TableID(family, name)
    }

    static func element(_ json: JSON) -> Element {
        if let pair = json.array, pair.count == 2 { return Element(key: scalar(pair[0]), value: scalar(pair[1])) }
        return Element(key: scalar(json))
    }

    static func scalar(_ json: JSON) -> String {
        if let text = json.string { return text }
        if let number = json.int { return String(number) }
        if let target = json["jump"]?["target"]?.string { return "jump \(target)" }
        if let target = json["goto"]?["target"]?.string { return "goto \(target)" }
        if let prefix = json["prefix"], let address = prefix["addr"]?.string, let length = prefix["len"]?.int {
            return "\(address)/\(length)"
        }
        if let inner = json["elem"]?["val"] { return scalar(inner) }
        return json.text
    }

    /// A table's content; nil when the table does not exist.
    public subscript(_ id: TableID) -> Table? { tables[id] }
}
