import HTTPTypes

/// The OpenStack headers the services read and write, named once. Each name is a valid
/// token (checked by `HeaderNamesTests`), so building it cannot fail at run time.
extension HTTPField.Name {
    public static let xAuthToken = known("X-Auth-Token")
    public static let xSubjectToken = known("X-Subject-Token")
    public static let xOpenStackRequestID = known("X-Openstack-Request-Id")
    public static let xComputeRequestID = known("X-Compute-Request-Id")
    public static let openStackAPIVersion = known("OpenStack-API-Version")
    public static let xOpenStackNovaAPIVersion = known("X-OpenStack-Nova-API-Version")
    public static let xTransID = known("X-Trans-Id")
    public static let xTimestamp = known("X-Timestamp")
    public static let xPutTimestamp = known("X-Put-Timestamp")
    public static let xDeleteAt = known("X-Delete-At")
    public static let xStaticLargeObject = known("X-Static-Large-Object")
    public static let xStoragePolicy = known("X-Storage-Policy")
    public static let xCopiedFrom = known("X-Copied-From")
    public static let xCopiedFromAccount = known("X-Copied-From-Account")
    public static let xCopiedFromLastModified = known("X-Copied-From-Last-Modified")
    public static let xAccountBytesUsed = known("X-Account-Bytes-Used")
    public static let xAccountContainerCount = known("X-Account-Container-Count")
    public static let xAccountObjectCount = known("X-Account-Object-Count")
    public static let xAccountPolicyBytesUsed = known("X-Account-Storage-Policy-Policy-0-Bytes-Used")
    public static let xAccountPolicyContainerCount = known("X-Account-Storage-Policy-Policy-0-Container-Count")
    public static let xAccountPolicyObjectCount = known("X-Account-Storage-Policy-Policy-0-Object-Count")
    public static let xContainerBytesUsed = known("X-Container-Bytes-Used")
    public static let xContainerObjectCount = known("X-Container-Object-Count")
    public static let contentMD5 = known("Content-MD5")

    /// A name written in this file: a literal token, so the parse cannot fail.
    static func known(_ name: StaticString) -> HTTPField.Name {
        guard let field = HTTPField.Name(name.description) else {
            preconditionFailure("'\(name)' is not an HTTP header name")
        }
        return field
    }
}
