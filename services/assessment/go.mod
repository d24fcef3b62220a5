module github.com/predikat-id/predikat/services/assessment

go 1.26.8

require (
	github.com/predikat-id/predikat/pkg v0.0.0
	github.com/predikat-id/predikat/services/registry v0.0.0
)

replace (
	github.com/predikat-id/predikat/pkg => ../../pkg
	github.com/predikat-id/predikat/services/registry => ../../services/registry
)
