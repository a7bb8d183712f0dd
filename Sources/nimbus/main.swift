import NimbusCLI
NimbusCommand.main()
