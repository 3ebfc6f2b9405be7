module plainws-bench/go-seed

go 1.19

require golang.org/x/net v0.7.0
