module github.com/predikat-id/predikat/services/assessment

go 1.26.8
