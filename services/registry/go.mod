module github.com/predikat-id/predikat/services/registry

go 1.26.8
