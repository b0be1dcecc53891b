from fuseshare.cli import main

main()
