from safeguard_cli.app import main

main()
