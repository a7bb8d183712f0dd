import HTTPTypes
import Hummingbird
import Testing

@testable import NimbusServiceKit

@Suite("Microversions")
struct MicroversionTests {
    let compute = MicroversionPolicy(
        service: "compute", legacyHeader: HTTPField.Name("X-OpenStack-Nova-API-Version"),
        minimum: Microversion(2, 1), maximum: Microversion(2, 96))

    func headers(_ pairs: [(String, String)]) -> HTTPFields {
        var fields = HTTPFields()
        for (name, value) in pairs {
            if let name = HTTPField.Name(name) { fields.append(.init(name: name, value: value)) }
        }
        return fields
    }

    @Test("Versions order by number, not by text")
    func ordering() {
        #expect(Microversion(2, 9) < Microversion(2, 10))
        #expect(Microversion("2.96") == Microversion(2, 96))
        for bad in ["2", "2.", ".1", "2.x", "v2.1", "2.1.1", ""] { #expect(Microversion(bad) == nil, "\(bad)") }
    }

    @Test(
        "A request gets the version it names, latest is the maximum, none is the minimum",
        arguments: [
            ([("OpenStack-API-Version", "compute 2.60")], "2.60"),
            ([("OpenStack-API-Version", "volume 3.0, compute 2.88")], "2.88"),
            ([("OpenStack-API-Version", "compute latest")], "2.96"),
            ([("X-OpenStack-Nova-API-Version", "2.10")], "2.10"),
            ([("OpenStack-API-Version", "compute 2.5"), ("X-OpenStack-Nova-API-Version", "2.10")], "2.5"),
            ([("OpenStack-API-Version", "volume 3.71")], "2.1"),
            ([], "2.1"),
        ])
    func negotiation(pairs: [(String, String)], served: String) throws {
        #expect(try compute.negotiate(headers(pairs)).description == served)
    }

    @Test("A version above the maximum is 406 and a malformed one 400, worded as Nova words them")
    func refusals() {
        #expect(
            throws: MicroversionPolicy.Failure.unsupported(
                Microversion(2, 97), minimum: .init(2, 1), maximum: .init(2, 96))
        ) {
            try compute.negotiate(headers([("OpenStack-API-Version", "compute 2.97")]))
        }
        let malformed = MicroversionPolicy.Failure.malformed("2.x")
        #expect(malformed.status == .badRequest)
        #expect(malformed.description.contains("Must be of format MajorNum.MinorNum"))
        let unsupported = MicroversionPolicy.Failure.unsupported(
            Microversion(3, 0), minimum: .init(2, 1), maximum: .init(2, 96))
        #expect(unsupported.status == .notAcceptable)
        #expect(
            unsupported.description == "Version 3.0 is not supported by the API. Minimum is 2.1 and maximum is 2.96.")
    }

    @Test("Answers echo the version under both names and vary on them")
    func echo() {
        var fields = HTTPFields()
        compute.echo(Microversion(2, 60), into: &fields)
        #expect(fields[.openStackAPIVersion] == "compute 2.60")
        #expect(fields[HTTPField.Name("X-OpenStack-Nova-API-Version")!] == "2.60")
        #expect(fields[.vary] == "OpenStack-API-Version, X-OpenStack-Nova-API-Version")
    }

    struct Refused: ServiceFault {
        var status: HTTPResponse.Status
        var response: Response { .json(["message": "refused"], status: status) }
    }

    @Test("The middleware negotiates under the versioned path only and refuses before any route runs")
    func middleware() async throws {
        let router = Router(context: ServiceContext.self)
        router.add(middleware: FaultMiddleware { status, _ in .json(["unexpected": true], status: status) })
        router.add(
            middleware: MicroversionMiddleware(policy: compute, pathPrefix: "/v2.1") { Refused(status: $0.status) })
        router.get("/v2.1/servers") { _, context in Response.json(["seen": .string("\(context.microversion!)")]) }
        router.get("/") { _, context in Response.json(["seen": context.microversion == nil ? "none" : "some"]) }
        let client = InProcessClient(responder: router.buildResponder())
        let served = try await client.send(.get, "/v2.1/servers", headers: ["OpenStack-API-Version": "compute 2.47"])
        #expect(served.json?["seen"]?.string == "2.47")
        #expect(served.header("OpenStack-API-Version") == "compute 2.47")
        let refused = try await client.send(.get, "/v2.1/servers", headers: ["OpenStack-API-Version": "compute 2.100"])
        #expect(refused.status == .notAcceptable)
        let root = try await client.send(.get, "/", headers: ["OpenStack-API-Version": "compute 9.9"])
        #expect(root.status == .ok)
        #expect(root.json?["seen"]?.string == "none")
        #expect(root.header("OpenStack-API-Version") == nil)
    }
}

@Suite("Listings")
struct ListingTests {
    let items = (1...7).map { "id\($0)" }

    @Test(
        "Pages follow the marker, stop at the limit and say what lies on either side",
        arguments: [
            (PageRequest(limit: 3), ["id1", "id2", "id3"], true, false),
            (PageRequest(limit: 3, marker: "id3"), ["id4", "id5", "id6"], true, true),
            (PageRequest(limit: 3, marker: "id6"), ["id7"], false, true),
            (PageRequest(marker: "id7"), [], false, true),
            (PageRequest(limit: 0), [], true, false),
            (PageRequest(limit: 2, marker: "id5", reverse: true), ["id3", "id4"], true, true),
            (PageRequest(limit: 9, marker: "id2", reverse: true), ["id1"], true, false),
            (PageRequest(), ["id1", "id2", "id3", "id4", "id5", "id6", "id7"], false, false),
        ])
    func paging(request: PageRequest, expected: [String], hasMore: Bool, hasLess: Bool) throws {
        let page = try items.page(request, id: { $0 })
        #expect(page.items == expected)
        #expect(page.hasMore == hasMore)
        #expect(page.hasLess == hasLess)
    }

    @Test("A marker that is not in the listing is refused, naming it")
    func missingMarker() {
        #expect(throws: PageRequest.Failure.markerNotFound("nope")) {
            try items.page(.init(marker: "nope"), id: { $0 })
        }
    }

    @Test("limit defaults, is capped and must be a whole number")
    func limits() throws {
        #expect(try PageRequest(ListQuery([]), defaultLimit: 25).limit == 25)
        #expect(try PageRequest(ListQuery([("limit", "5000")]), maxLimit: 1000).limit == 1000)
        #expect(try PageRequest(ListQuery([("page_reverse", "True")])).reverse)
        for bad in ["-1", "ten", "1.5"] {
            #expect(throws: PageRequest.Failure.badLimit(bad)) { try PageRequest(ListQuery([("limit", bad)])) }
        }
    }

    @Test("Links keep the other parameters, escaped, and replace marker and limit")
    func links() {
        let query = ListQuery([("name", "a b&c"), ("marker", "old"), ("limit", "2"), ("sort", "name:asc")])
        #expect(
            query.link(path: "/v2.0/networks", marker: "id9", limit: 2)
                == "/v2.0/networks?name=a%20b%26c&sort=name:asc&limit=2&marker=id9")
        #expect(
            query.link(path: "/v2.0/networks", marker: "id1", limit: 2, reverse: true).hasSuffix("&page_reverse=True"))
    }

    @Test("A raw query is read as Python's urlencode writes it: + is a space, names and values percent-decoded")
    func rawQuery() {
        let query = ListQuery(query: "router%3Aexternal=True&name=my+net&tag=a%2Bb&fields=id&empty=")
        #expect(query.value("router:external") == "True")
        #expect(query.value("name") == "my net")
        #expect(query.value("tag") == "a+b")
        #expect(query.value("empty") == "")
        #expect(ListQuery(query: "").parameters.isEmpty)
    }

    @Test("Filters keep the known parameters with all their values; the unknown are listed once")
    func filters() {
        let query = ListQuery([
            ("tag", "a"), ("is_public", "None"), ("tag", "b"), ("deleted", "False"), ("is_public", "x"),
        ])
        #expect(query.filters(["tag", "name"]) == ["tag": ["a", "b"]])
        #expect(query.unknown(["tag"]) == ["is_public", "deleted"])
        #expect(ListQuery([("shared", "TRUE")]).bool("shared") == .some(true))
        #expect(ListQuery([("shared", "maybe")]).bool("shared") == .some(nil))
        #expect(ListQuery([]).bool("shared") == nil)
    }

    @Test(
        "Name filters match exactly, or as Nova's search pattern",
        arguments: [
            (NameMatch.exact, "vm1", "vm1", true), (.exact, "vm10", "vm1", false), (.exact, nil, "vm1", false),
            (.pattern, "vm10", "vm1", true), (.pattern, "web-3", "^web-[0-9]$", true),
            (.pattern, "web-30", "^web-[0-9]$", false),
            (.pattern, "a(b", "a(", true), (.exact, "anything", nil, true),
        ] as [(NameMatch, String?, String?, Bool)])
    func names(match: NameMatch, name: String?, wanted: String?, passes: Bool) {
        #expect(match.matches(name, wanted) == passes)
    }
}

@Suite("Policy rules")
struct PolicyTests {
    func caller(_ roles: Set<String>, project: String? = "p1") -> Caller {
        Caller(userID: "u", userName: "u", domainID: "default", projectID: project, projectName: nil, roles: roles)
    }

    @Test(
        "Rules follow Keystone's implied roles and the owning project",
        arguments: [
            (PolicyRule.admin, ["admin"], "p2", true), (.admin, ["member"], "p1", false),
            (.project(.member), ["member"], "p1", true), (.project(.member), ["reader"], "p1", false),
            (.project(.member), ["member"], "p2", false), (.project(.member), ["admin"], "p2", true),
            (.project(.reader), ["reader"], "p1", true), (.project(.reader), ["manager"], "p1", true),
            (.project(.reader), ["other"], "p1", false), (.adminOrOwner, ["other"], "p1", true),
            (.adminOrOwner, ["member"], nil, false), (.authenticated, [], "p9", true),
        ] as [(PolicyRule, Set<String>, String?, Bool)])
    func rules(rule: PolicyRule, roles: Set<String>, owner: String?, allowed: Bool) {
        #expect(rule.allows(caller(roles), owner: owner) == allowed)
    }

    @Test("An unscoped caller owns nothing")
    func unscoped() {
        #expect(!PolicyRule.project(.reader).allows(caller(["member"], project: nil), owner: "p1"))
    }
}

@Suite("Version documents")
struct VersionDocumentTests {
    @Test("A microversioned API publishes its range, stamp and media type; a plain one only id, status and link")
    func documents() {
        let compute = APIVersion(
            id: "v2.1", status: "CURRENT", path: "/v2.1/", microversions: Microversion(2, 1)...Microversion(2, 96),
            updated: "2013-07-23T11:33:21Z", mediaType: "application/vnd.openstack.compute+json;version=2.1")
        let document = compute.document(origin: "http://h:8774")
        #expect(document["version"]?.string == "2.96")
        #expect(document["min_version"]?.string == "2.1")
        #expect(document["links"]?.array?.first?["href"]?.string == "http://h:8774/v2.1/")
        #expect(
            document["media-types"]?.array?.first?["type"]?.string
                == "application/vnd.openstack.compute+json;version=2.1")
        let network = APIVersion.list(
            [APIVersion(id: "v2.0", status: "CURRENT", path: "/v2.0/")], origin: "http://h:9696")
        #expect(
            network.text
                == #"{"versions":[{"id":"v2.0","status":"CURRENT","links":[{"rel":"self","href":"http://h:9696/v2.0/"}]}]}"#
        )
    }

    @Test("Every header name the services use is built without failing")
    func headerNames() {
        #expect(HTTPField.Name.openStackAPIVersion.rawName == "OpenStack-API-Version")
        #expect(HTTPField.Name.xAccountPolicyObjectCount.rawName == "X-Account-Storage-Policy-Policy-0-Object-Count")
    }
}
