import CLibSSH2
import Foundation

extension SSH {
    /// Commands on session channels (`libssh2_channel_open_ex` + `process_startup("exec")`).
    enum Channel {
        static let windowSize: UInt32 = 2 * 1024 * 1024
        static let packetSize: UInt32 = 32_768

        static func exec(_ raw: Handle, command: String, input: Data?, deadline: Date) throws(SSH.Error)
            -> CommandOutput
        {
            guard let session = raw.session else { throw .closed }
            libssh2_session_set_blocking(session, 1)
            guard let channel = libssh2_channel_open_ex(session, "session", 7, windowSize, packetSize, nil, 0) else {
                throw .channel("cannot open a channel: \(raw.lastError())")
            }
            defer { libssh2_channel_free(channel) }
            guard libssh2_channel_process_startup(channel, "exec", 4, command, UInt32(command.utf8.count)) == 0 else {
                throw .channel("cannot start the command: \(raw.lastError())")
            }
            if let input, !input.isEmpty {
                var failure: SSH.Error?
                input.withUnsafeBytes { (buffer: UnsafeRawBufferPointer) in
                    var offset = 0
                    while offset < buffer.count && failure == nil {
                        let base = buffer.baseAddress.map {
                            $0.advanced(by: offset).assumingMemoryBound(to: CChar.self)
                        }
                        let written = libssh2_channel_write_ex(channel, 0, base, buffer.count - offset)
                        if written < 0 { failure = .channel("cannot send input: \(raw.lastError())") }
                        offset += max(written, 0)
                    }
                }
                if let failure { throw failure }
            }
            libssh2_channel_send_eof(channel)

            // Read stdout and stderr without blocking, so neither can fill up and stall the other.
            libssh2_session_set_blocking(session, 0)
            defer { libssh2_session_set_blocking(session, 1) }
            var stdout = Data()
            var stderr = Data()
            var buffer = [CChar](repeating: 0, count: 32_768)
            while true {
                var progressed = false
                for (stream, sink) in [(Int32(0), 0), (Int32(1), 1)] {
                    while true {
                        let count = libssh2_channel_read_ex(channel, stream, &buffer, buffer.count)
                        if count > 0 {
                            let bytes = buffer[0..<count].map { UInt8(bitPattern: $0) }
                            if sink == 0 { stdout.append(contentsOf: bytes) } else { stderr.append(contentsOf: bytes) }
                            progressed = true
                        } else if count == Int(LIBSSH2_ERROR_EAGAIN) || count == 0 {
                            break
                        } else {
                            throw .channel("reading the command's output: \(raw.lastError())")
                        }
                    }
                }
                if libssh2_channel_eof(channel) != 0 { break }
                if !progressed {
                    // While a long command is quiet, keep the connection alive (every 15 s).
                    var next: Int32 = 0
                    _ = libssh2_keepalive_send(session, &next)
                    try raw.waitForSocket(until: deadline)
                }
                if Date() > deadline { throw .timeout("\(command) (still running)") }
            }
            while libssh2_channel_close(channel) == LIBSSH2_ERROR_EAGAIN { try raw.waitForSocket(until: deadline) }
            while libssh2_channel_wait_closed(channel) == LIBSSH2_ERROR_EAGAIN {
                try raw.waitForSocket(until: deadline)
            }
            return CommandOutput(status: libssh2_channel_get_exit_status(channel), stdout: stdout, stderr: stderr)
        }
    }

    /// Files over SFTP (`libssh2_sftp_*`).
    enum SFTP {
        static func writeAtomically(_ raw: Handle, data: Data, path: String, mode: Int32, deadline: Date)
            throws(SSH.Error)
        {
            guard let session = raw.session else { throw .closed }
            libssh2_session_set_blocking(session, 1)
            guard let sftp = libssh2_sftp_init(session) else { throw .sftp(path: path, reason: raw.lastError()) }
            defer { libssh2_sftp_shutdown(sftp) }
            let temporary = "\(path).nimbus-\(UInt32.random(in: 0...UInt32.max))"
            let flags = UInt(LIBSSH2_FXF_WRITE | LIBSSH2_FXF_CREAT | LIBSSH2_FXF_EXCL)
            guard
                let file = libssh2_sftp_open_ex(
                    sftp, temporary, UInt32(temporary.utf8.count), flags, Int(mode), LIBSSH2_SFTP_OPENFILE)
            else { throw .sftp(path: path, reason: "cannot create \(temporary): \(raw.lastError())") }
            var failure: SSH.Error?
            data.withUnsafeBytes { (buffer: UnsafeRawBufferPointer) in
                var offset = 0
                while offset < buffer.count && failure == nil {
                    let base = buffer.baseAddress.map { $0.advanced(by: offset).assumingMemoryBound(to: CChar.self) }
                    let written = libssh2_sftp_write(file, base, buffer.count - offset)
                    if written < 0 { failure = .sftp(path: path, reason: "writing: \(raw.lastError())") }
                    offset += max(written, 0)
                    if Date() > deadline { failure = .timeout("writing \(path)") }
                }
            }
            // Best effort: servers without the fsync extension still get an atomic rename.
            if failure == nil { _ = libssh2_sftp_fsync(file) }
            libssh2_sftp_close_handle(file)
            if failure == nil {
                // SFTP v3's rename (all OpenSSH's sftp-server speaks) refuses an existing target;
                // rename(2) through mv replaces it atomically.
                let move = try Channel.exec(
                    raw, command: "mv -f -- \(SSH.shellQuoted(temporary)) \(SSH.shellQuoted(path))", input: nil,
                    deadline: deadline)
                if move.status == 0 { return }
                failure = .sftp(path: path, reason: "cannot rename into place: \(move.standardError)")
            }
            libssh2_sftp_unlink_ex(sftp, temporary, UInt32(temporary.utf8.count))
            throw failure ?? .sftp(path: path, reason: "write failed")
        }
    }
}

extension SSH {
    /// `text` as one POSIX shell word.
    public static func shellQuoted(_ text: String) -> String {
        "'" + text.replacingOccurrences(of: "'", with: "'\\''") + "'"
    }
}
