/// One API version as the version documents of Nova, Cinder, Neutron and Glance describe
/// it: its id, status and root; for microversioned APIs the range and media type too.
public struct APIVersion: Sendable {
    /// `v2.1`, `v3.0`, `v2.0`.
    public var id: String
    /// `CURRENT`, `SUPPORTED`, `DEPRECATED`.
    public var status: String
    /// The version's root below the service's origin, with its trailing slash (`/v2.1/`).
    public var path: String
    /// The microversions served; nil for an API without them (the document then says
    /// nothing of versions, and clients send no version header).
    public var microversions: ClosedRange<Microversion>?
    /// The `updated` stamp the service has always published for this version.
    public var updated: String?
    /// The `media-types` entry's type (`application/vnd.openstack.compute+json;version=2.1`).
    public var mediaType: String?

    public init(
        id: String, status: String, path: String, microversions: ClosedRange<Microversion>? = nil,
        updated: String? = nil, mediaType: String? = nil
    ) {
        self.id = id
        self.status = status
        self.path = path
        self.microversions = microversions
        self.updated = updated
        self.mediaType = mediaType
    }

    /// The version as a JSON object; `origin` is the scheme and authority the request was
    /// addressed to, so links work behind any address the service is reached at.
    public func document(origin: String) -> JSON {
        var fields: [(String, JSON)] = [("id", .string(id)), ("status", .string(status))]
        if let microversions {
            fields.append(("version", .string(microversions.upperBound.description)))
            fields.append(("min_version", .string(microversions.lowerBound.description)))
        } else if updated != nil {
            // Nova lists its unversioned v2.0 with empty version strings.
            fields.append(("version", ""))
            fields.append(("min_version", ""))
        }
        if let updated { fields.append(("updated", .string(updated))) }
        fields.append(("links", [["rel": "self", "href": .string(origin + path)]]))
        if let mediaType {
            fields.append(("media-types", [["base": "application/json", "type": .string(mediaType)]]))
        }
        return .object(fields)
    }

    /// `{"versions": [...]}`: the root document (and Cinder's `/v3/`).
    public static func list(_ versions: [APIVersion], origin: String) -> JSON {
        ["versions": .array(versions.map { $0.document(origin: origin) })]
    }
}
