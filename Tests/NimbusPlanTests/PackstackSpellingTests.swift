import Testing

@testable import NimbusCLI

@Suite("Packstack's command-line spellings")
struct PackstackSpellingTests {
    @Test(
        "Top-level Packstack options become subcommands",
        arguments: [
            (["--gen-answer-file=/root/a.txt"], ["gen-answer-file", "/root/a.txt"]),
            (["--gen-answer-file", "/root/a.txt"], ["gen-answer-file", "/root/a.txt"]),
            (
                ["--gen-answer-file=a.txt", "--default-password=abc123"],
                ["gen-answer-file", "a.txt", "--default-password=abc123"]
            ),
            (["--answer-file=/root/a.txt"], ["deploy", "/root/a.txt"]),
            (["--answer-file", "a.txt", "-d"], ["deploy", "a.txt", "-d"]),
            (["--allinone"], ["deploy", "--allinone"]),
            (["--allinone", "--default-password", "pw"], ["deploy", "--allinone", "--default-password", "pw"]),
            (["--install-hosts=10.0.0.1,10.0.0.2"], ["deploy", "--install-hosts=10.0.0.1,10.0.0.2"]),
            (["plan", "a.txt"], ["plan", "a.txt"]),
            (["sandbox", "up", "--answer-file", "x.txt"], ["sandbox", "up", "--answer-file", "x.txt"]),
            (["--help"], ["--help"]),
        ])
    func rewrite(arguments: [String], expected: [String]) {
        #expect(PackstackSpelling.rewrite(arguments) == expected)
    }
}
