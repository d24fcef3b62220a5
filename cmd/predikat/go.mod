module github.com/predikat-id/predikat/cmd/predikat

go 1.26.8
