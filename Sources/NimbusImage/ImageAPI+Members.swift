import Foundation
import HTTPTypes
import Hummingbird
import NimbusServiceKit

extension ImageAPI {
    func memberRoutes(on router: Router<ServiceContext>) {
        router.post("/v2/images/:id/members") { request, context in
            let caller = try await caller(request)
            let id = try context.parameters.require("id")
            guard let member = try await Self.body(request, context: context)["member"]?.string, !member.isEmpty else {
                throw GlanceFault.badRequest("The body must name a member: {\"member\": \"<project id>\"}.")
            }
            let image = try modifiableImage(id, caller, action: "add_member")
            guard image.visibility == "shared" else {
                throw GlanceFault.forbidden("Only shared images have members.")
            }
            let now = clock()
            let created = ImageMember(imageID: id, memberID: member, status: "pending", createdAt: now, updatedAt: now)
            try store.write { db in
                if try ImageMember.exists(db, key: ["image_id": id, "member_id": member]) {
                    throw GlanceFault(.conflict, "Member \(member) already exists for image \(id).")
                }
                try created.insert(db)
            }
            return Response.json(render(created))
        }
        router.get("/v2/images/:id/members") { request, context in
            let caller = try await caller(request)
            let image = try visibleImage(try context.parameters.require("id"), caller)
            let members = try members(of: image.id).filter {
                canModify(image, caller) || image.owner == caller.projectID || $0.memberID == caller.projectID
            }
            return Response.json(["members": .array(members.map(render)), "schema": "/v2/schemas/members"])
        }
        router.get("/v2/images/:id/members/:member") { request, context in
            let caller = try await caller(request)
            let image = try visibleImage(try context.parameters.require("id"), caller)
            let memberID = try context.parameters.require("member")
            guard let member = try members(of: image.id).first(where: { $0.memberID == memberID }),
                canModify(image, caller) || image.owner == caller.projectID || memberID == caller.projectID
            else { throw GlanceFault(.notFound, "Member \(memberID) not found for image \(image.id).") }
            return Response.json(render(member))
        }
        router.put("/v2/images/:id/members/:member") { request, context in
            let caller = try await caller(request)
            let id = try context.parameters.require("id")
            let memberID = try context.parameters.require("member")
            guard let status = try await Self.body(request, context: context)["status"]?.string,
                ["pending", "accepted", "rejected"].contains(status)
            else { throw GlanceFault.badRequest("status must be one of pending, accepted, rejected.") }
            let image = try visibleImage(id, caller)
            guard var member = try members(of: image.id).first(where: { $0.memberID == memberID }) else {
                throw GlanceFault(.notFound, "Member \(memberID) not found for image \(id).")
            }
            guard caller.projectID == memberID || caller.isAdmin else { throw GlanceFault.policy("modify_member") }
            member.status = status
            member.updatedAt = clock()
            let updated = member
            try store.write { db in try updated.update(db) }
            return Response.json(render(member))
        }
        router.delete("/v2/images/:id/members/:member") { request, context in
            let caller = try await caller(request)
            let id = try context.parameters.require("id")
            let memberID = try context.parameters.require("member")
            let image = try modifiableImage(id, caller, action: "delete_member")
            let deleted = try store.write { db in
                try ImageMember.deleteOne(db, key: ["image_id": image.id, "member_id": memberID])
            }
            guard deleted else { throw GlanceFault(.notFound, "Member \(memberID) not found for image \(id).") }
            return Response.empty()
        }
    }
}
