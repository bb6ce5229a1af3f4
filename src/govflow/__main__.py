from govflow.entrypoints.cli import main

main()
