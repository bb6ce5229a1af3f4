from govflow.bench.cycle import main

main()
