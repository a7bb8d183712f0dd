import Foundation
import NimbusModel
import NimbusSystem

#if canImport(Glibc)
    import CGlibcMalloc
    import Glibc
#endif

/// Keeping a long-running service's resident memory to what serving needs.
public enum Memory {
    /// Unmaps the executable's code pages once the service is up, so that only the code
    /// requests actually run is faulted back in. Start-up runs far more code than serving
    /// (argument parsing, configuration, migrations, the first snapshot load) and the kernel
    /// maps 64 KiB around every fault, so about two thirds of the ~25 MB resident after start
    /// is code a running service never touches again. Only the read-and-execute mapping of
    /// the executable file is released: it is never written, so the pages come back from the
    /// page cache unchanged (a minor fault each). Data, relocated or written pages are left
    /// alone.
    public static func releaseStartupCode() {
        #if os(Linux)
            guard let maps = SystemFile.text("/proc/self/maps"),
                let executable = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")
            else { return }
            for line in maps.split(separator: "\n") {
                let fields = line.split(separator: " ", omittingEmptySubsequences: true)
                guard fields.count >= 6, fields[1] == "r-xp", fields[5...].joined(separator: " ") == executable
                else { continue }
                let bounds = fields[0].split(separator: "-")
                guard bounds.count == 2, let start = UInt(bounds[0], radix: 16), let end = UInt(bounds[1], radix: 16),
                    end > start, let address = UnsafeMutableRawPointer(bitPattern: start)
                else { continue }
                _ = madvise(address, Int(end - start), MADV_DONTNEED)
            }
        #endif
    }

    /// Makes every allocation of 1 MiB or more its own mapping, returned to the system when
    /// freed. glibc otherwise raises that threshold each time such a block is freed, after
    /// which large blocks (a memory-hard KDF's 16 MiB work area, one per thread hashing a
    /// password) are carved from the threads' arenas and stay resident for good.
    public static func configureAllocator() {
        #if canImport(Glibc)
            _ = mallopt(M_MMAP_THRESHOLD, 1 << 20)
        #endif
    }
}
