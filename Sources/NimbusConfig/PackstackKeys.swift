enum PackstackKeys { static let names: [String] = [] }
