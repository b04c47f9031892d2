package main

// Every data file a command names goes through table.Open or table.Create;
// parquetio registers Parquet with them.
import _ "github.com/normguard/normguard/parquetio"
