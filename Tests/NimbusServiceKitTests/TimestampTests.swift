import Testing

@testable import NimbusServiceKit

@Suite("Timestamps")
struct TimestampTests {
    @Test("utc and seconds are inverses; Keystone's fraction and Z are read past; other text is nil")
    func roundTrip() {
        for seconds: Int64 in [0, 1_790_000_000, 4_102_444_799] {
            #expect(Timestamp.seconds(Timestamp.utc(seconds)) == seconds)
            #expect(Timestamp.seconds(Timestamp.utc(seconds) + ".000000Z") == seconds)
        }
        #expect(Timestamp.seconds("2026-11-23") == nil)
        #expect(Timestamp.seconds("not a timestamp at all") == nil)
    }
}
