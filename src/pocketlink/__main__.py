from pocketlink.cli.main import main

raise SystemExit(main())
