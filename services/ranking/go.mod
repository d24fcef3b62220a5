module github.com/predikat-id/predikat/services/ranking

go 1.26.8
