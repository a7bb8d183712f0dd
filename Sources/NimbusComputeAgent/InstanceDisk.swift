import Foundation
import NimbusServiceKit
import NimbusSystem

/// An instance's root disk: a qcow2 overlay on the host's cached copy of its image, sized
/// to the flavor (never smaller than the image).
public enum InstanceDisk {
    /// What `qemu-img info` tells of an image file.
    public struct Info: Sendable, Equatable {
        /// `qcow2`, `raw`, …
        public var format: String
        public var virtualSize: UInt64
        public var backingFile: String?
    }

    /// `qemu-img info --output=json`.
    public static func info(_ path: String, runner: any ProcessRunning = ProcessRunner()) async throws(DiskError)
        -> Info
    {
        let output: ProcessOutput
        do {
            output = try await runner.check(Command(["qemu-img", "info", "--output=json", "-U", path]))
        } catch {
            throw .qemuImg("\(error)")
        }
        guard let json = try? JSON.parse(Array(output.stdout.utf8)), let format = json["format"]?.string,
            let size = json["virtual-size"]?.int
        else { throw .qemuImg("cannot read qemu-img info of \(path): \(output.stdout)") }
        return Info(format: format, virtualSize: UInt64(size), backingFile: json["backing-filename"]?.string)
    }

    /// Makes `path` a qcow2 overlay on `base` of `sizeGiB` GiB, or the image's own size when
    /// that is 0 (a flavor with no disk) or larger than the image (`qemu-img create -b`).
    /// A flavor smaller than the image is refused, as Nova refuses it.
    public static func createOverlay(
        on base: String, at path: String, sizeGiB: Int, runner: any ProcessRunning = ProcessRunner()
    ) async throws(DiskError) {
        let image = try await info(base, runner: runner)
        let wanted = UInt64(max(sizeGiB, 0)) << 30
        if wanted > 0, wanted < image.virtualSize {
            throw .flavorTooSmall(flavorBytes: wanted, imageBytes: image.virtualSize)
        }
        let size = max(wanted, image.virtualSize)
        let partial = path + ".partial"
        do {
            try await runner.check(
                Command(["qemu-img", "create", "-q", "-f", "qcow2", "-F", image.format, "-b", base, partial, "\(size)"])
            )
        } catch {
            try? FileManager.default.removeItem(atPath: partial)
            throw .qemuImg("\(error)")
        }
        guard rename(partial, path) == 0 else {
            throw .qemuImg("cannot rename \(partial): \(String(cString: strerror(errno)))")
        }
    }
}

/// Why an instance disk could not be made.
public enum DiskError: Error, Equatable, CustomStringConvertible {
    case qemuImg(String)
    /// The flavor's disk is smaller than the image (Nova's `FlavorDiskSmallerThanImage`).
    case flavorTooSmall(flavorBytes: UInt64, imageBytes: UInt64)

    public var description: String {
        switch self {
        case .qemuImg(let reason): "qemu-img: \(reason)"
        case .flavorTooSmall(let flavor, let image):
            "Flavor's disk is too small for requested image. Flavor disk is \(flavor) bytes, image is \(image) bytes."
        }
    }
}
