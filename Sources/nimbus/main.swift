import NimbusCLI

NimbusCommand.main()
