import Foundation

/// What the cached base rootfs is made of. Its hash names the cache directory, so a change
/// to any field builds a new base; a base in use is never changed in place.
public struct BaseRecipe: Sendable, Equatable {
    public var suite = "bookworm"
    /// Packages debootstrap installs into the base.
    public var packages = [
        "systemd", "systemd-sysv", "dbus", "openssh-server", "chrony", "iproute2", "nftables", "python3",
        "iputils-ping", "procps", "kmod", "curl", "ca-certificates", "busybox",
    ]
    /// Packages fetched into the nodes' local repository (what deploy installs on nodes).
    public var repositoryPackages: [String]
    /// `templates/sandbox/base-setup.sh`, run in the new rootfs.
    public var setupScript: String

    public init(repositoryPackages: [String], setupScript: String) {
        self.repositoryPackages = repositoryPackages.sorted()
        self.setupScript = setupScript
    }

    public var hash: String {
        String(
            FNV1a.hex(
                ([suite] + packages + ["--"] + repositoryPackages + ["--", setupScript]).joined(separator: "\n")
            ).prefix(12))
    }
}

/// A built base: the rootfs nodes overlay and the repository they install packages from.
public struct BaseImage: Sendable {
    public let directory: String
    public var rootfs: String { "\(directory)/rootfs" }
    public var repository: String { "\(directory)/repo" }
}

/// Builds the base rootfs with debootstrap, once per recipe.
public struct BaseImageBuilder: Sendable {
    public let runner: any CommandRunner
    public let paths: SandboxPaths

    public init(runner: any CommandRunner, paths: SandboxPaths) {
        self.runner = runner
        self.paths = paths
    }

    /// The base for `recipe`, building it first when it is not cached.
    public func ensure(_ recipe: BaseRecipe, mirror: String, progress: (String) -> Void) throws(SandboxError)
        -> BaseImage
    {
        let image = BaseImage(directory: paths.base(recipe.hash))
        if FileManager.default.fileExists(atPath: "\(image.directory)/complete") { return image }
        progress("building the base rootfs (debootstrap \(recipe.suite), once per recipe; a few minutes)")
        let staging = "\(paths.root)/.base-\(recipe.hash).partial"
        let rootfs = "\(staging)/rootfs"
        try step("clean a previous partial build") { () throws(CommandError) in
            try runner.check("rm", "-rf", staging)
            try runner.check("mkdir", "-p", "\(staging)/repo")
        }
        try step("debootstrap") { () throws(CommandError) in
            try runner.check(
                [
                    "debootstrap", "--variant=minbase", "--include=" + recipe.packages.joined(separator: ","),
                    recipe.suite, rootfs, mirror,
                ], timeout: 1800)
        }
        try write(recipe.setupScript, to: "\(rootfs)/tmp/nimbus-base-setup.sh")
        try step("configure the base (templates/sandbox/base-setup.sh)") { () throws(CommandError) in
            try runner.check("cp", "-L", "/etc/resolv.conf", "\(rootfs)/etc/resolv.conf")
            try runner.check(
                [
                    "chroot", rootfs, "/bin/sh", "/tmp/nimbus-base-setup.sh",
                    recipe.repositoryPackages.joined(separator: " "),
                ],
                timeout: 1800)
        }
        try step("build the local package repository") { () throws(CommandError) in
            try runner.check(
                [
                    "sh", "-c",
                    "set -e; for f in \"$1\"/var/cache/apt/archives/*.deb; do [ -e \"$f\" ] && mv \"$f\" \"$2\"/; done; cd \"$2\" && dpkg-scanpackages --multiversion . /dev/null > Packages 2>/dev/null",
                    "sh", rootfs, "\(staging)/repo",
                ], timeout: 600)
            try runner.check(
                [
                    "sh", "-c",
                    "rm -rf \"$1\"/var/lib/apt/lists/* \"$1\"/var/cache/apt/*.bin \"$1\"/tmp/nimbus-base-setup.sh && : > \"$1\"/etc/resolv.conf",
                    "sh", rootfs,
                ])
        }
        try write(describe(recipe, mirror: mirror), to: "\(staging)/recipe.txt")
        try write("", to: "\(staging)/complete")
        try step("install the base") { () throws(CommandError) in
            try runner.check("rm", "-rf", image.directory)
            try runner.check("mv", staging, image.directory)
        }
        return image
    }

    func describe(_ recipe: BaseRecipe, mirror: String) -> String {
        """
        suite: \(recipe.suite)
        mirror: \(mirror)
        packages: \(recipe.packages.joined(separator: " "))
        repository: \(recipe.repositoryPackages.joined(separator: " "))
        hash: \(recipe.hash)

        """
    }

    private func step(_ name: String, _ body: () throws(CommandError) -> Void) throws(SandboxError) {
        do { try body() } catch { throw .command(step: "base rootfs: \(name)", error) }
    }

    private func write(_ text: String, to path: String) throws(SandboxError) {
        do { try text.write(toFile: path, atomically: true, encoding: .utf8) } catch {
            throw .io(step: "base rootfs", path: path, reason: "\(error.localizedDescription)")
        }
    }

    /// The Debian mirror this machine's apt uses (deb822 or one-line sources), else Debian's CDN.
    public static func hostMirror(
        files: [String] = ["/etc/apt/sources.list.d/debian.sources", "/etc/apt/sources.list"]
    ) -> String {
        for file in files {
            guard let text = try? String(contentsOfFile: file, encoding: .utf8) else { continue }
            for line in text.split(separator: "\n").map({ $0.trimmingCharacters(in: .whitespaces) }) {
                if line.hasPrefix("URIs:"), let uri = line.dropFirst(5).split(separator: " ").first,
                    !uri.contains("security")
                {
                    return String(uri)
                }
                let fields = line.split(separator: " ")
                if fields.first == "deb", let uri = fields.dropFirst().first(where: { $0.hasPrefix("http") }),
                    !uri.contains("security")
                {
                    return String(uri)
                }
            }
        }
        return "http://deb.debian.org/debian"
    }
}
