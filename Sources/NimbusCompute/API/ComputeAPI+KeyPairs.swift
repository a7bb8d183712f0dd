import Foundation
import Hummingbird
import NimbusServiceKit

/// `/v2.1/os-keypairs`: each user's key pairs, imported (`public_key`) or made here (the
/// private key is in the create answer only). From 2.2 a `type` (ssh, x509) and 201/204;
/// from 2.10 an admin names another user with `user_id`; from 2.35 paging; from 2.92 a
/// public key is required and names may hold `@` and `.`.
extension ComputeAPI {
    func keyPairRoutes(on router: Hummingbird.Router<ServiceContext>) {
        router.get("/v2.1/os-keypairs") { request, context in
            let caller = try await caller(request)
            let version = Self.version(context)
            let query = ListQuery(request)
            let user = try keyPairUser(query.value("user_id"), caller, version, "index")
            var pairs = store.snapshot.keyPairs.values.filter { $0.userID == user }.sorted { $0.name < $1.name }
            var limit: Int?
            if version >= Microversion(2, 35) {
                if let marker = query.value("marker") {
                    guard let index = pairs.firstIndex(where: { $0.name == marker }) else {
                        throw ComputeFault.badRequest("marker [\(marker)] not found")
                    }
                    pairs = Array(pairs[(index + 1)...])
                }
                if let text = query.value("limit") {
                    guard let value = Int(text), value >= 0 else {
                        throw ComputeFault.badRequest("limit param must be an integer")
                    }
                    limit = min(value, 1000)
                    pairs = Array(pairs.prefix(min(value, 1000)))
                }
            }
            let typed = version >= Microversion(2, 2)
            let items = pairs.map { pair -> JSON in
                var fields: [(String, JSON)] = [
                    ("name", .string(pair.name)), ("public_key", .string(pair.publicKey)),
                    ("fingerprint", .string(pair.fingerprint)),
                ]
                if typed { fields.append(("type", .string(pair.type))) }
                return ["keypair": .object(fields)]
            }
            var document: [(String, JSON)] = [("keypairs", .array(items))]
            if let limit, limit > 0, pairs.count == limit, let last = pairs.last {
                let marker = last.name.addingPercentEncoding(withAllowedCharacters: .urlQueryAllowed) ?? last.name
                document.append(
                    (
                        "keypairs_links",
                        [
                            [
                                "rel": "next",
                                "href": .string("\(request.origin)/v2.1/os-keypairs?limit=\(limit)&marker=\(marker)"),
                            ]
                        ]
                    ))
            }
            return Response.json(.object(document))
        }
        router.get("/v2.1/os-keypairs/:name") { request, context in
            let caller = try await caller(request)
            let version = Self.version(context)
            let name = try context.parameters.require("name")
            let user = try keyPairUser(ListQuery(request).value("user_id"), caller, version, "show")
            guard let pair = store.snapshot.keyPairs[KeyPair.key(user: user, name: name)] else {
                throw Self.keyPairNotFound(name, user)
            }
            var fields = render(pair, version)
            fields.append(contentsOf: [
                ("created_at", .string(Timestamp.utc(pair.createdAt) + ".000000")), ("deleted", false),
                ("deleted_at", .null), ("id", .int(Int64(pair.serial))), ("updated_at", .null),
                ("user_id", .string(pair.userID)),
            ])
            return Response.json(["keypair": .object(fields)])
        }
        router.post("/v2.1/os-keypairs") { request, context in
            let caller = try await caller(request)
            let version = Self.version(context)
            let given = try member(try await body(request, context: context), "keypair")
            var pair = try newKeyPair(given, caller, version)
            var privateKey: String?
            if pair.publicKey.isEmpty, pair.type == "x509" {
                let made = try await KeyPairs.generateX509(user: pair.userID, runner: runner)
                (privateKey, pair.publicKey) = (made.privateKey, made.certificate)
                pair.fingerprint = KeyPairs.x509Fingerprint(made.certificate) ?? ""
            } else if pair.publicKey.isEmpty {
                let made = try await KeyPairs.generate(runner: runner)
                (privateKey, pair.publicKey) = (made.privateKey, made.publicKey)
                pair.fingerprint = KeyPairs.sshFingerprint(made.publicKey) ?? ""
            }
            let created = try store.write { transaction -> KeyPair in
                let key = KeyPair.key(user: pair.userID, name: pair.name)
                guard transaction.state.keyPairs[key] == nil else {
                    throw ComputeFault.conflict("Key pair '\(pair.name)' already exists.")
                }
                let owned = transaction.state.keyPairs.values.filter { $0.userID == pair.userID }
                let limit =
                    caller.projectID.map { quotas(transaction.state, $0)["key_pairs"] ?? keyPairQuota }
                    ?? keyPairQuota
                guard limit < 0 || owned.count < limit else {
                    throw ComputeFault(.forbidden, "Quota exceeded, too many key pairs.")
                }
                pair.serial = (transaction.state.keyPairs.values.map(\.serial).max() ?? 0) + 1
                pair.createdAt = clock()
                transaction.state.keyPairs[key] = pair
                transaction.touch(.keypair, key)
                return pair
            }
            var fields = render(created, version)
            fields.append(("user_id", .string(created.userID)))
            if let privateKey { fields.insert(("private_key", .string(privateKey)), at: 0) }
            return Response.json(
                ["keypair": .object(fields)], status: version >= Microversion(2, 2) ? .created : .ok)
        }
        router.delete("/v2.1/os-keypairs/:name") { request, context in
            let caller = try await caller(request)
            let version = Self.version(context)
            let name = try context.parameters.require("name")
            let user = try keyPairUser(ListQuery(request).value("user_id"), caller, version, "delete")
            try store.write { transaction in
                let key = KeyPair.key(user: user, name: name)
                guard transaction.state.keyPairs.removeValue(forKey: key) != nil else {
                    throw Self.keyPairNotFound(name, user)
                }
                transaction.touch(.keypair, key)
            }
            return Response(status: version >= Microversion(2, 2) ? .noContent : .accepted)
        }
    }

    static func keyPairNotFound(_ name: String, _ user: String) -> ComputeFault {
        .notFound("Keypair \(name) not found for user \(user)")
    }

    /// The user whose key pairs a request is about: the caller's own, or (from 2.10) the
    /// `user_id` an admin names.
    func keyPairUser(_ given: String?, _ caller: Caller, _ version: Microversion, _ action: String) throws -> String {
        let user = caller.userID
        guard version >= Microversion(2, 10), let given, given != user else { return user }
        guard caller.isAdmin else { throw ComputeFault.policy("os_compute_api:os-keypairs:\(action)") }
        return given
    }

    /// The fields every key pair answer has: name, public key, fingerprint (and its type from 2.2).
    func render(_ pair: KeyPair, _ version: Microversion) -> [(String, JSON)] {
        var fields: [(String, JSON)] = [
            ("name", .string(pair.name)), ("public_key", .string(pair.publicKey)),
            ("fingerprint", .string(pair.fingerprint)),
        ]
        if version >= Microversion(2, 2) { fields.append(("type", .string(pair.type))) }
        return fields
    }

    /// A key pair from a create body, checked as Nova's schema for `version` checks it; its
    /// public key empty when one is to be made.
    func newKeyPair(_ given: JSON, _ caller: Caller, _ version: Microversion) throws -> KeyPair {
        var known = ["name", "public_key"]
        if version >= Microversion(2, 2) { known.append("type") }
        if version >= Microversion(2, 10) { known.append("user_id") }
        for (key, _) in given.members ?? [] where !known.contains(key) {
            throw ComputeFault.badRequest(
                "Invalid input for field/attribute keypair. Additional properties are not allowed ('\(key)' was unexpected)"
            )
        }
        guard let raw = given["name"]?.string else {
            throw ComputeFault.invalid("keypair", given["name"], "'name' is a required property")
        }
        let name = raw.trimmingCharacters(in: .whitespaces)
        let extra: String = version >= Microversion(2, 92) ? "_- @." : "_- "
        guard !name.isEmpty, name.count <= 255,
            name.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || extra.contains($0)) })
        else {
            let pattern = version >= Microversion(2, 92) ? #"^[_\-\@\. a-zA-Z0-9]+$"# : #"^[_\- a-zA-Z0-9]+$"#
            throw ComputeFault.invalid("name", given["name"], "'\(raw)' does not match '\(pattern)'")
        }
        let type = given["type"]?.string ?? "ssh"
        guard ["ssh", "x509"].contains(type) else {
            throw ComputeFault.invalid("type", given["type"], "'\(type)' is not one of ['ssh', 'x509']")
        }
        let user = try keyPairUser(given["user_id"]?.string, caller, version, "create")
        var publicKey = ""
        var fingerprint = ""
        if let value = given["public_key"] {
            guard let text = value.string else {
                throw ComputeFault.invalid("public_key", value, "\(value.text) is not of type 'string'")
            }
            publicKey = text.trimmingCharacters(in: .whitespacesAndNewlines)
            guard
                let print = type == "x509"
                    ? KeyPairs.x509Fingerprint(publicKey) : KeyPairs.sshFingerprint(publicKey)
            else { throw ComputeFault.badRequest("Keypair data is invalid: failed to generate fingerprint") }
            fingerprint = print
        } else if version >= Microversion(2, 92) {
            throw ComputeFault.invalid("keypair", nil, "'public_key' is a required property")
        }
        return KeyPair(
            name: name, userID: user, publicKey: publicKey, fingerprint: fingerprint, type: type, serial: 0,
            createdAt: 0)
    }
}
